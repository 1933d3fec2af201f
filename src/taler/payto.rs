//! Payto URIs (RFC 8905) as both services check them: the IBAN check the bank's
//! canonical form and the merchant's account registration share.

/// An IBAN in its electronic form (upper case, no spaces or dashes), if its check
/// digits are right (ISO 13616: the rearranged number modulo 97 is 1).
pub fn normalize_iban(raw: &str) -> Option<String> {
    let iban: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let b = iban.as_bytes();
    let shape = b.len() >= 5
        && b.len() <= 34
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..4].iter().all(u8::is_ascii_digit)
        && b[4..].iter().all(u8::is_ascii_alphanumeric);
    if !shape {
        return None;
    }
    let mut rem: u32 = 0;
    for &c in b[4..].iter().chain(&b[..4]) {
        let digits = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A') + 10
        };
        rem = if digits >= 10 {
            (rem * 100 + digits) % 97
        } else {
            (rem * 10 + digits) % 97
        };
    }
    (rem == 1).then_some(iban)
}

/// The wire method (target type, lower case) of a payto URI the merchant can be paid
/// into, or why it is none: `payto://TYPE/PATH` with a path, an `iban` one ending in a
/// valid IBAN (`payto://iban/[BIC/]IBAN`), an `x-taler-bank` one naming a host and an
/// account.
pub fn wire_method(payto_uri: &str) -> Result<String, String> {
    let url = url::Url::parse(payto_uri).map_err(|e| format!("not a URI: {e}"))?;
    if url.scheme() != "payto" {
        return Err("the scheme must be `payto`".to_owned());
    }
    let method = url.host_str().unwrap_or("").to_ascii_lowercase();
    let segments: Vec<&str> = url
        .path()
        .trim_start_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    if method.is_empty() || segments.is_empty() {
        return Err("must be payto://TARGET-TYPE/TARGET-PATH".to_owned());
    }
    match method.as_str() {
        "iban" => {
            let iban = segments.last().copied().unwrap_or("");
            let iban = percent_encoding::percent_decode_str(iban)
                .decode_utf8()
                .map(|s| s.into_owned())
                .unwrap_or_default();
            if segments.len() > 2 || normalize_iban(&iban).is_none() {
                return Err(format!("`{iban}` is not a valid IBAN"));
            }
        }
        "x-taler-bank" if segments.len() < 2 => {
            return Err("must be payto://x-taler-bank/HOST/ACCOUNT".to_owned());
        }
        _ => {}
    }
    Ok(method)
}

#[cfg(test)]
mod tests {
    use super::wire_method;

    #[test]
    fn merchant_accounts_name_real_accounts() {
        for ok in [
            "payto://iban/DE89370400440532013000?receiver-name=Shop",
            "payto://iban/COBADEFFXXX/DE89370400440532013000",
            "payto://x-taler-bank/bank.example/shop",
            "payto://void/anything",
        ] {
            assert!(wire_method(ok).is_ok(), "{ok}");
        }
        for bad in [
            "payto://iban/NOTANIBAN",
            "payto://iban/DE89370400440532013001",
            "payto://x-taler-bank/shop",
            "payto://iban/",
            "https://iban/DE89370400440532013000",
        ] {
            assert!(wire_method(bad).is_err(), "{bad}");
        }
    }
}
