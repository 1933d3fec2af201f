// The Go client flow: the three generated clients and Debian's validator.v2, all
// local (contract/run generates them next to this file; there is no module proxy).
module taler-openapi/contract-flows

go 1.19

require (
	github.com/taler/bank/bank v0.0.0
	github.com/taler/donau/donau v0.0.0
	github.com/taler/merchant/merchant v0.0.0
	gopkg.in/validator.v2 v2.0.1
)

replace (
	github.com/taler/bank/bank => ../bank
	github.com/taler/donau/donau => ../donau
	github.com/taler/merchant/merchant => ../merchant
	gopkg.in/validator.v2 => ../validator.v2
)
