//! The order's page for browsers: `GET /orders/$ORDER_ID` asked for `text/html` (a
//! customer following the link a shop gave, or scanning it on another device). It
//! shows what the order is for and, while unpaid, the `taler://pay` URI as a link a
//! wallet opens and as a QR code another device scans; once paid (or refunded) it says
//! so and links to the fulfillment page. No script, no external resource: the page
//! works offline and under a strict content security policy.

use poem::Request;

use crate::taler::html::escape;

/// Whether the client prefers HTML to JSON: it names `text/html` in `Accept` before
/// `application/json` (or without it), as browsers do; wallets ask for JSON.
pub fn wants_html(req: &Request) -> bool {
    let Some(accept) = req.headers().get("accept").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let position = |wanted: &str| {
        accept.split(',').position(|part| {
            let mut params = part.split(';');
            let media = params.next().unwrap_or("").trim();
            let refused = params.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    == Some(0.0)
            });
            media.eq_ignore_ascii_case(wanted) && !refused
        })
    };
    match (position("text/html"), position("application/json")) {
        (Some(html), Some(json)) => html < json,
        (Some(_), None) => true,
        _ => false,
    }
}

/// What the page shows of the order.
pub struct OrderView<'a> {
    pub summary: &'a str,
    pub amount: &'a str,
}

/// The unpaid order: the pay URI as a link and a QR code.
pub fn unpaid(order: &OrderView<'_>, pay_uri: &str) -> String {
    let uri = escape(pay_uri);
    page(
        order,
        "Payment required",
        &format!(
            "<p>Pay with your GNU Taler wallet: open the link, or scan the code with \
             the wallet on your phone.</p>\n\
             <p><a class=\"pay\" href=\"{uri}\">Pay with GNU Taler</a></p>\n\
             <figure>{qr}<figcaption><code>{uri}</code></figcaption></figure>\n",
            qr = qr_svg(pay_uri),
        ),
    )
}

/// The paid (or refunded) order, with its fulfillment link.
pub fn paid(order: &OrderView<'_>, refunded: bool, fulfillment_url: Option<&str>) -> String {
    let (title, text) = if refunded {
        ("Refunded", "This order was paid and refunded.")
    } else {
        ("Paid", "This order is paid. Thank you!")
    };
    let link = fulfillment_url
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .map(|u| {
            format!(
                "<p><a href=\"{}\">Continue to the shop</a></p>\n",
                escape(u)
            )
        })
        .unwrap_or_default();
    page(order, title, &format!("<p>{text}</p>\n{link}"))
}

/// A claimed order the browser cannot prove to own: where to buy it again.
pub fn reorder(public_reorder_url: &str) -> String {
    let url = escape(public_reorder_url);
    page(
        &OrderView {
            summary: "",
            amount: "",
        },
        "Order taken",
        &format!(
            "<p>Another wallet has taken this order.</p>\n\
             <p><a href=\"{url}\">Order the same again</a></p>\n"
        ),
    )
}

fn page(order: &OrderView<'_>, title: &str, body: &str) -> String {
    let details = if order.summary.is_empty() {
        String::new()
    } else {
        format!(
            "<p class=\"summary\">{}</p>\n<p class=\"amount\">{}</p>\n",
            escape(order.summary),
            escape(order.amount)
        )
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>\
         body{{font-family:sans-serif;max-width:32em;margin:2em auto;padding:0 1em}}\
         .amount{{font-size:1.5em;font-weight:bold}}\
         svg{{width:16em;height:16em}}code{{word-break:break-all}}\
         a.pay{{display:inline-block;padding:.6em 1.2em;background:#0042b3;color:#fff;\
         text-decoration:none;border-radius:.3em}}</style>\n</head>\n<body>\n\
         <h1>{title}</h1>\n{details}{body}</body>\n</html>\n"
    )
}

/// The QR code of `data` as inline SVG (black modules on white, with a quiet zone).
fn qr_svg(data: &str) -> String {
    match qrcode::QrCode::new(data.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .quiet_zone(true)
            .min_dimensions(256, 256)
            .build()
            // The renderer starts with an XML declaration, which has no place inline.
            .split_once("?>")
            .map(|(_, svg)| svg.trim().to_owned())
            .unwrap_or_default(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_get_html_and_wallets_json() {
        let req = |accept: &str| Request::builder().header("accept", accept).finish();
        let firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert!(wants_html(&req(firefox)));
        assert!(!wants_html(&req("application/json")));
        assert!(!wants_html(&req("application/json, text/html")));
        assert!(!wants_html(&req("text/html;q=0, application/json")));
        assert!(!wants_html(&Request::builder().finish()));
    }

    #[test]
    fn the_page_escapes_what_the_merchant_wrote() {
        let html = unpaid(
            &OrderView {
                summary: "<script>alert(1)</script>",
                amount: "KUDOS:1",
            },
            "taler://pay/shop.example/2026.339-X/",
        );
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("<svg"), "a QR code: {html}");
        assert!(html.contains("href=\"taler://pay/shop.example/2026.339-X/\""));
    }

    #[test]
    fn paid_and_refunded_orders_say_so_and_link_to_the_shop() {
        let view = OrderView {
            summary: "Tea",
            amount: "KUDOS:4",
        };
        let html = paid(&view, false, Some("https://shop.example/thanks?o=1&x=\""));
        assert!(html.contains("<h1>Paid</h1>"), "{html}");
        assert!(html.contains("href=\"https://shop.example/thanks?o=1&amp;x=&quot;\""));
        let html = paid(&view, true, Some("javascript:alert(1)"));
        assert!(html.contains("<h1>Refunded</h1>"), "{html}");
        assert!(!html.contains("javascript:"), "only http(s) links: {html}");
    }
}
