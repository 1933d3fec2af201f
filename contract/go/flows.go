// Gate 3, Go: the client openapi-generator generates from the merchant spec drives the
// money pot flow against a live server; the bank and Donau clients are generated and
// compiled too. Only the generated package talks to the server.
//
// Usage: go run . BASE_URL ADMIN_TOKEN
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"strings"

	_ "github.com/taler/bank/bank"
	_ "github.com/taler/donau/donau"
	"github.com/taler/merchant/merchant"
)

var steps = 0

func check(ok bool, what string, detail ...interface{}) {
	if !ok {
		fmt.Fprintf(os.Stderr, "go client: %s failed: %v\n", what, detail)
		os.Exit(1)
	}
	steps++
}

// client is a merchant API client with one Authorization header.
func client(base, authorization string) *merchant.APIClient {
	cfg := merchant.NewConfiguration()
	cfg.Servers = merchant.ServerConfigurations{{URL: base + "/merchant"}}
	if authorization != "" {
		cfg.AddDefaultHeader("Authorization", authorization)
	}
	return merchant.NewAPIClient(cfg)
}

// errorDetail is the ErrorDetail the generated client decoded from an error answer.
func errorDetail(err error) *merchant.ErrorDetail {
	if e, ok := err.(*merchant.GenericOpenAPIError); ok {
		if d, ok := e.Model().(merchant.ErrorDetail); ok {
			return &d
		}
	}
	return nil
}

// randomKey is 32 random bytes in Taler's Crockford base32: a wallet's nonce.
func randomKey() string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		panic(err)
	}
	var out strings.Builder
	bits, count := 0, 0
	for _, b := range raw {
		bits = bits<<8 | int(b)
		count += 8
		for count >= 5 {
			count -= 5
			out.WriteByte(alphabet[(bits>>count)&31])
		}
		bits &= 1<<count - 1
	}
	if count > 0 {
		out.WriteByte(alphabet[(bits<<(5-count))&31])
	}
	return out.String()
}

// walletFlow: a wallet turns a template into an order and claims it; a second wallet's
// claim is refused.
func walletFlow(ctx context.Context, base, admin, currency string) {
	before := steps
	mgmt := client(base, "Bearer "+admin)
	added, _, err := mgmt.AccountsAPI.MerchantPostPrivateAccounts(ctx, "admin").AccountAddDetails(
		merchant.AccountAddDetails{PaytoUri: "payto://x-taler-bank/localhost/admin-go"}).Execute()
	check(err == nil && len(added.HWire) == 103, "add bank account", err)
	amount := currency + ":2"
	summary := "Espresso"
	contract := merchant.TemplateContractFixedOrderDetails{Summary: *merchant.NewNullableString(&summary)}
	contract.Amount = &amount
	resp, err := mgmt.TemplatesAPI.MerchantPostPrivateTemplates(ctx, "admin").TemplateCreateRequest(
		merchant.TemplateCreateRequest{TemplateId: "go-espresso", TemplateDescription: "Espresso",
			TemplateContract: merchant.TemplateContractFixedOrderDetailsAsTemplateContractDetails(&contract)}).Execute()
	check(err == nil && resp.StatusCode == http.StatusNoContent, "create template", err)
	public := client(base, "")
	order, _, err := public.TemplatesAPI.MerchantPostTemplate(ctx, "admin", "go-espresso").
		UsingTemplateDetailsRequest(merchant.UsingTemplateDetailsRequest{}).Execute()
	check(err == nil && order.Token != nil, "order from template", err)
	nonce := randomKey()
	claim, _, err := public.OrdersAPI.MerchantPostOrderClaim(ctx, "admin", order.OrderId).
		ClaimRequest(merchant.ClaimRequest{Nonce: nonce, Token: *merchant.NewNullableString(order.Token)}).Execute()
	check(err == nil && len(claim.Sig) == 103, "claim", err)
	other := randomKey()
	_, resp, err = public.OrdersAPI.MerchantPostOrderClaim(ctx, "admin", order.OrderId).
		ClaimRequest(merchant.ClaimRequest{Nonce: other, Token: *merchant.NewNullableString(order.Token)}).Execute()
	detail := errorDetail(err)
	check(resp != nil && resp.StatusCode == http.StatusConflict && detail != nil && detail.Code == 2301,
		"another wallet's claim", err, detail)
	fmt.Printf("go client: wallet: %d checks through the generated client, all as expected\n", steps-before)
}

func main() {
	base, admin := os.Args[1], os.Args[2]
	ctx := context.Background()
	public := client(base, "")
	config, _, err := public.ConfigurationAPI.MerchantGetConfig(ctx).Execute()
	check(err == nil, "GET /config", err)
	currency := config.Currency

	mgmt := client(base, "Bearer "+admin)
	password := "go-shop-password"
	resp, err := mgmt.InstancesAPI.MerchantPostManagementInstances(ctx).InstanceConfigurationRequest(
		merchant.InstanceConfigurationRequest{
			Id:   "go-shop",
			Name: "Go shop",
			Auth: merchant.InstanceAuthConfigurationMessage{
				Method: "token", Password: *merchant.NewNullableString(&password)},
			UseStefan: true,
		}).Execute()
	check(err == nil && resp.StatusCode == http.StatusNoContent, "create instance", err)

	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("go-shop:"+password))
	login, _, err := client(base, basic).AuthenticationAPI.MerchantPostPrivateToken(ctx, "go-shop").
		LoginTokenRequest(merchant.LoginTokenRequest{Scope: "all"}).Execute()
	check(err == nil, "log in", err)
	shop := client(base, "Bearer "+login.AccessToken)

	added, _, err := shop.PotsAPI.MerchantPostPrivatePots(ctx, "go-shop").
		PotAddRequest(merchant.PotAddRequest{PotName: "tips", Description: "Tips jar"}).Execute()
	check(err == nil, "create pot", err)
	pot := added.PotSerialId

	filled := currency + ":5.25"
	resp, err = shop.PotsAPI.MerchantPatchPrivatePot(ctx, "go-shop", pot).PotModifyRequest(
		merchant.PotModifyRequest{PotName: "tips", Description: "Tips jar",
			NewPotTotals: []string{filled}}).Execute()
	check(err == nil && resp.StatusCode == http.StatusNoContent, "fill pot", err)

	// A compare-and-set with totals that are not the stored ones: 409, ErrorDetail 2691.
	resp, err = shop.PotsAPI.MerchantPatchPrivatePot(ctx, "go-shop", pot).PotModifyRequest(
		merchant.PotModifyRequest{PotName: "tips", Description: "Tips jar",
			ExpectedPotTotals: []string{currency + ":1"},
			NewPotTotals:      []string{currency + ":9"}}).Execute()
	detail := errorDetail(err)
	check(resp != nil && resp.StatusCode == http.StatusConflict && detail != nil && detail.Code == 2691,
		"stale pot update", err, detail)

	got, _, err := shop.PotsAPI.MerchantGetPrivatePot(ctx, "go-shop", pot).Execute()
	check(err == nil && len(got.PotTotals) == 1 && got.PotTotals[0] == filled, "read pot", err, got)
	listed, _, err := shop.PotsAPI.MerchantGetPrivatePots(ctx, "go-shop").Execute()
	check(err == nil && len(listed.Pots) == 1 && listed.Pots[0].PotSerial == pot, "list pots", err)

	resp, err = shop.PotsAPI.MerchantDeletePrivatePot(ctx, "go-shop", pot).Execute()
	check(err == nil && resp.StatusCode == http.StatusNoContent, "delete pot", err)
	_, resp, err = shop.PotsAPI.MerchantGetPrivatePot(ctx, "go-shop", pot).Execute()
	detail = errorDetail(err)
	check(resp != nil && resp.StatusCode == http.StatusNotFound && detail != nil && detail.Code == 2035,
		"deleted pot", err)

	fmt.Printf("go client: merchant: %d checks through the generated client, all as expected\n", steps)
	walletFlow(ctx, base, admin, currency)
}
