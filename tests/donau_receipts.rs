//! The Donau's receipts over HTTP: keys, a charity's blind-signed batch, the donor's
//! submission and the signed yearly statement, on SQLite and PostgreSQL.

mod common;

use std::time::Duration;

use common::{ADMIN_TOKEN, TestServer, assert_error, backends};
use ed25519_dalek::{Signer, SigningKey};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha512};
use taler_openapi::{
    donau::{signatures, unverified},
    store::donau_keys,
    taler::{Amount, EddsaPublicKey, keys, rsa, time::current_year},
};

const JSON_INVALID: u64 = 22;
const ENDPOINT_UNKNOWN: u64 = 21;
const PARAMETER_MALFORMED: u64 = 26;
const KEYS_MISSING: u64 = 8607;
const CHARITY_SIGNATURE_INVALID: u64 = 8608;
const CHARITY_NOT_FOUND: u64 = 8609;
const EXCEEDING_DONATION_LIMIT: u64 = 8610;
const DONATION_UNIT_UNKNOWN: u64 = 8611;
const RECEIPT_SIGNATURE_INVALID: u64 = 8616;
const NONCE_REUSE: u64 = 8617;
// Provisional (see `taler::error::PROVISIONAL`).
const WRONG_YEAR: u64 = 8619;
const EXPIRED: u64 = 8620;
const TOO_EARLY: u64 = 8621;
const CIPHER_FOR_OPERATION: u64 = 8622;

/// Three values, small keys: the tests wait for key generation.
const DONAU: &str = "[donau]\nDONATION_UNIT_VALUES = KUDOS:1 KUDOS:2 KUDOS:5\n\
                     DONATION_UNIT_KEY_BITS = 1024\nLEGAL_DOMAIN = Testland\n";

/// A donation unit key as `/keys` shows it.
#[derive(Clone)]
struct Unit {
    year: i32,
    value: String,
    hash: String,
    public: rsa::PublicKey,
}

async fn start(backend: &common::Backend) -> TestServer {
    TestServer::start_with(common::TestDb::new(backend).await, DONAU).await
}

/// `/keys` once both years' keys exist.
async fn keys_of(s: &TestServer) -> (Value, Vec<Unit>) {
    for _ in 0..600 {
        let (status, body) = s.call(Method::GET, "/donau/keys", None, None).await;
        if status == StatusCode::OK && body["donation_units"].as_array().unwrap().len() == 6 {
            let units = body["donation_units"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| {
                    let key = &u["donation_unit_pub"];
                    assert_eq!(key["cipher"], "RSA");
                    let enc = key["rsa_public_key"].as_str().unwrap();
                    let bytes = keys::decode(enc, enc.len() * 5 / 8).unwrap();
                    Unit {
                        year: u["year"].as_i64().unwrap() as i32,
                        value: u["value"].as_str().unwrap().to_owned(),
                        hash: key["pub_key_hash"].as_str().unwrap().to_owned(),
                        public: rsa::PublicKey::decode(&bytes).unwrap(),
                    }
                })
                .collect();
            return (body, units);
        }
        assert!(
            status == StatusCode::OK || status == StatusCode::SERVICE_UNAVAILABLE,
            "{status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the Donau made no keys in 30 s");
}

fn unit<'a>(units: &'a [Unit], year: i32, value: &str) -> &'a Unit {
    units
        .iter()
        .find(|u| u.year == year && u.value == value)
        .unwrap()
}

async fn register(s: &TestServer, key: &SigningKey, max: &str) -> u64 {
    let (status, body) = s
        .call(
            Method::POST,
            "/donau/charities",
            Some(ADMIN_TOKEN),
            Some(json!({
                "charity_pub": EddsaPublicKey(key.verifying_key().to_bytes()).to_string(),
                "charity_url": "https://charity.example.org/",
                "charity_name": "charity",
                "max_per_year": max,
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["charity_id"].as_u64().unwrap()
}

/// A donor's receipt in the making: the nonce and blinding secret stay with the donor.
struct Planchet {
    unit: Unit,
    nonce: [u8; 32],
    secret: [u8; 32],
    blinded: Vec<u8>,
}

fn donor_hash(tax_id: &str, salt: &str) -> [u8; 64] {
    // The current rule of the Donau verifier app (LSD0013).
    let mut h = Sha512::new();
    h.update(tax_id.as_bytes());
    h.update([0]);
    h.update(salt.as_bytes());
    h.update([0]);
    h.finalize().into()
}

fn planchet(unit: &Unit, donor: &[u8; 64], seed: u8) -> Planchet {
    let mut nonce = [seed; 32];
    nonce[0] = 0xd0;
    let secret = [seed.wrapping_add(100); 32];
    let h_udi = unverified::h_udi(donor, &nonce);
    Planchet {
        unit: unit.clone(),
        nonce,
        secret,
        blinded: unit.public.blind(&h_udi, &secret).unwrap(),
    }
}

/// The charity's request for a batch, signed by `key`.
fn batch(key: &SigningKey, year: i32, planchets: &[Planchet]) -> Value {
    let hashes: Vec<[u8; 64]> = planchets
        .iter()
        .map(|p| keys::decode(&p.unit.hash, 64).unwrap().try_into().unwrap())
        .collect();
    let hash = unverified::batch_hash(
        hashes
            .iter()
            .zip(planchets)
            .map(|(h, p)| (h, p.blinded.as_slice())),
    );
    let sig = key.sign(&unverified::charity_batch_block(
        planchets.len() as u32,
        &hash,
    ));
    json!({
        "charity_sig": keys::encode(&sig.to_bytes()),
        "year": year,
        "budikeypairs": planchets.iter().map(|p| json!({
            "h_donation_unit_pub": p.unit.hash,
            "blinded_udi": {
                "cipher": "RSA",
                "rsa_blinded_identifier": keys::encode(&p.blinded),
            },
        })).collect::<Vec<_>>(),
    })
}

/// The donor's receipts: unblinded and checked as a wallet does.
fn receipts(planchets: &[Planchet], answer: &Value, donor: &[u8; 64]) -> Vec<Value> {
    let sigs = answer["blind_signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), planchets.len());
    planchets
        .iter()
        .zip(sigs)
        .map(|(p, s)| {
            assert_eq!(s["cipher"], "RSA");
            let text = s["blinded_rsa_signature"].as_str().unwrap();
            let blind = keys::decode(text, text.len() * 5 / 8).unwrap();
            let sig = p.unit.public.unblind(&blind, &p.secret).unwrap();
            assert!(
                p.unit
                    .public
                    .verify(&unverified::h_udi(donor, &p.nonce), &sig)
            );
            json!({
                "h_donation_unit_pub": p.unit.hash,
                "nonce": keys::encode(&p.nonce),
                "donation_unit_sig": { "cipher": "RSA", "rsa_signature": keys::encode(&sig) },
            })
        })
        .collect()
}

fn submission(donor: &[u8; 64], year: i32, receipts: Vec<Value>) -> Value {
    json!({
        "h_donor_tax_id": keys::encode(donor),
        "donation_year": year,
        "donation_receipts": receipts,
    })
}

async fn issue(s: &TestServer, charity: u64, body: Value) -> (StatusCode, Value) {
    let path = format!("/donau/batch-issue/{charity}");
    s.call(Method::POST, &path, None, Some(body)).await
}

async fn submit(s: &TestServer, body: Value) -> (StatusCode, Value) {
    s.call(Method::POST, "/donau/batch-submit", None, Some(body))
        .await
}

async fn receipts_to_date(s: &TestServer, charity: u64) -> String {
    let (status, body) = s
        .call(
            Method::GET,
            &format!("/donau/charity/{charity}"),
            Some(ADMIN_TOKEN),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["receipts_to_date"].as_str().unwrap().to_owned()
}

/// The donor's whole path: hash the tax id, make nonces, blind, have the charity
/// request the batch, unblind, submit, fetch the statement and verify it as the Donau
/// verifier app does.
#[tokio::test]
async fn donor_gets_a_signed_statement() {
    let year = current_year();
    for b in backends() {
        let s = start(&b).await;
        let (keys_body, units) = keys_of(&s).await;
        assert_eq!(keys_body["version"], "0:0:0");
        assert_eq!(keys_body["legal_domain"], "Testland");
        assert_eq!(keys_body["currency"], "KUDOS");
        assert!(keys_body["base_url"].as_str().unwrap().ends_with("/donau/"));
        for u in &units {
            // `pub_key_hash` is the hash of the published key.
            assert_eq!(
                keys::encode(&unverified::rsa_pub_key_hash(&u.public.encode())),
                u.hash
            );
        }
        let signkeys = keys_body["signkeys"].as_array().unwrap();
        assert_eq!(signkeys.len(), 2);

        let charity_key = SigningKey::from_bytes(&[7; 32]);
        let charity = register(&s, &charity_key, "KUDOS:100").await;
        let donor = donor_hash("7560001010000", "1234");
        let planchets: Vec<Planchet> = [("KUDOS:1", 1u8), ("KUDOS:2", 2), ("KUDOS:5", 3)]
            .iter()
            .map(|(v, seed)| planchet(unit(&units, year, v), &donor, *seed))
            .collect();
        let (status, issued) = issue(&s, charity, batch(&charity_key, year, &planchets)).await;
        assert_eq!(status, StatusCode::OK, "{issued}");
        assert_eq!(issued["issued_amount"], "KUDOS:8");
        assert_eq!(receipts_to_date(&s, charity).await, "KUDOS:8");
        let donation_receipts = receipts(&planchets, &issued, &donor);

        let (status, body) = submit(&s, submission(&donor, year, donation_receipts.clone())).await;
        assert_eq!((status, body), (StatusCode::CREATED, Value::Null));
        let path = format!("/donau/donation-statement/{year}/{}", keys::encode(&donor));
        let (status, statement) = s.call(Method::GET, &path, None, None).await;
        assert_eq!(status, StatusCode::OK, "{statement}");
        assert_eq!(statement["total"], "KUDOS:8");
        let donau_pub = statement["donau_pub"].as_str().unwrap();
        assert!(signkeys.iter().any(|k| k["key"] == donau_pub));
        let verifies = |statement: &Value, total: &str| {
            let pub_bytes: [u8; 32] = keys::decode(statement["donau_pub"].as_str().unwrap(), 32)
                .unwrap()
                .try_into()
                .unwrap();
            let sig: [u8; 64] =
                keys::decode(statement["donation_statement_sig"].as_str().unwrap(), 64)
                    .unwrap()
                    .try_into()
                    .unwrap();
            let total: Amount = total.parse().unwrap();
            signatures::statement_verifies(&pub_bytes, &total, &donor, year as u32, &sig)
        };
        assert!(verifies(&statement, "KUDOS:8"));
        assert!(!verifies(&statement, "KUDOS:9"));

        // The same receipts again count once.
        let (status, _) = submit(&s, submission(&donor, year, donation_receipts.clone())).await;
        assert_eq!(status, StatusCode::CREATED);
        let (_, statement) = s.call(Method::GET, &path, None, None).await;
        assert_eq!(statement["total"], "KUDOS:8");

        // A new receipt adds to the year's total, with the old ones submitted along.
        let more = [planchet(unit(&units, year, "KUDOS:2"), &donor, 4)];
        let (status, issued) = issue(&s, charity, batch(&charity_key, year, &more)).await;
        assert_eq!(status, StatusCode::OK, "{issued}");
        let mut all = donation_receipts;
        all.extend(receipts(&more, &issued, &donor));
        let (status, _) = submit(&s, submission(&donor, year, all)).await;
        assert_eq!(status, StatusCode::CREATED);
        let (_, statement) = s.call(Method::GET, &path, None, None).await;
        assert_eq!(statement["total"], "KUDOS:10");
        assert!(verifies(&statement, "KUDOS:10"));

        // The statement survives a restart.
        let s = s.restart().await;
        let (_, statement) = s.call(Method::GET, &path, None, None).await;
        assert_eq!(statement["total"], "KUDOS:10");
        s.finish().await;
    }
}

/// An identical batch is answered with the same signatures and charged once, also
/// when the copies race.
#[tokio::test]
async fn a_batch_is_charged_once() {
    let year = current_year();
    for b in backends() {
        let s = start(&b).await;
        let (_, units) = keys_of(&s).await;
        let key = SigningKey::from_bytes(&[8; 32]);
        let charity = register(&s, &key, "KUDOS:100").await;
        let donor = donor_hash("123", "salt");
        let planchets = [
            planchet(unit(&units, year, "KUDOS:5"), &donor, 1),
            planchet(unit(&units, year, "KUDOS:5"), &donor, 2),
        ];
        let request = batch(&key, year, &planchets);
        let path = format!("/donau/batch-issue/{charity}");
        let racers = (0..6).map(|_| s.call(Method::POST, &path, None, Some(request.clone())));
        let answers = futures_util::future::join_all(racers).await;
        for (status, body) in &answers {
            assert_eq!(*status, StatusCode::OK, "{body}");
            assert_eq!(body, &answers[0].1);
        }
        assert_eq!(receipts_to_date(&s, charity).await, "KUDOS:10");
        let (status, again) = s.call(Method::POST, &path, None, Some(request)).await;
        assert_eq!((status, &again), (StatusCode::OK, &answers[0].1));
        assert_eq!(receipts_to_date(&s, charity).await, "KUDOS:10");
        s.finish().await;
    }
}

#[tokio::test]
async fn batch_issue_refusals() {
    let year = current_year();
    for b in backends() {
        let s = start(&b).await;
        let (_, units) = keys_of(&s).await;
        let key = SigningKey::from_bytes(&[9; 32]);
        let charity = register(&s, &key, "KUDOS:6").await;
        let donor = donor_hash("42", "x");
        let path = format!("/donau/batch-issue/{charity}");
        let five = [planchet(unit(&units, year, "KUDOS:5"), &donor, 1)];
        let server = &s;
        let post = |path: String, body: Value| async move {
            server.call(Method::POST, &path, None, Some(body)).await
        };

        let (status, body) =
            post("/donau/batch-issue/999999".into(), batch(&key, year, &five)).await;
        assert_error(status, &body, 404, CHARITY_NOT_FOUND);
        let (status, body) = post("/donau/batch-issue/x".into(), batch(&key, year, &five)).await;
        assert_error(status, &body, 400, PARAMETER_MALFORMED);

        let mut unknown = batch(&key, year, &five);
        unknown["budikeypairs"][0]["h_donation_unit_pub"] = json!(keys::encode(&[0u8; 64]));
        let (status, body) = post(path.clone(), unknown).await;
        assert_error(status, &body, 404, DONATION_UNIT_UNKNOWN);

        // The year must be the key's (409), and the current one (410, 425).
        let (status, body) = post(path.clone(), batch(&key, year - 1, &five)).await;
        assert_error(status, &body, 409, WRONG_YEAR);
        let next = [planchet(unit(&units, year + 1, "KUDOS:1"), &donor, 2)];
        let (status, body) = post(path.clone(), batch(&key, year + 1, &next)).await;
        assert_error(status, &body, 425, TOO_EARLY);
        // A key of last year, as a Donau that ran then has it.
        let old = rsa::PrivateKey::generate(1024).unwrap();
        let encoded = old.public().encode();
        let old_hash = keys::encode(&unverified::rsa_pub_key_hash(&encoded));
        donau_keys::add_donation_unit(
            &s.server.state.db,
            donau_keys::NewDonationUnit {
                pub_key_hash: old_hash.clone(),
                year: year - 1,
                value: "KUDOS:1".into(),
                cipher: "RSA".into(),
                public_key: keys::encode(&encoded),
                private_key: old.to_der().unwrap(),
            },
        )
        .await
        .unwrap();
        let old_unit = Unit {
            year: year - 1,
            value: "KUDOS:1".into(),
            hash: old_hash,
            public: old.public(),
        };
        let (status, body) = post(
            path.clone(),
            batch(&key, year - 1, &[planchet(&old_unit, &donor, 3)]),
        )
        .await;
        assert_error(status, &body, 410, EXPIRED);

        // Signed by another key, or for other pairs.
        let other = SigningKey::from_bytes(&[10; 32]);
        let (status, body) = post(path.clone(), batch(&other, year, &five)).await;
        assert_error(status, &body, 403, CHARITY_SIGNATURE_INVALID);
        let mut tampered = batch(&key, year, &five);
        tampered["budikeypairs"][0]["blinded_udi"]["rsa_blinded_identifier"] =
            json!(keys::encode(&[1, 2, 3, 4, 5]));
        let (status, body) = post(path.clone(), tampered).await;
        assert_error(status, &body, 403, CHARITY_SIGNATURE_INVALID);

        // Malformed bodies.
        let mut empty = batch(&key, year, &five);
        empty["budikeypairs"] = json!([]);
        let (status, body) = post(path.clone(), empty).await;
        assert_error(status, &body, 400, JSON_INVALID);
        let mut cs = batch(&key, year, &five);
        cs["budikeypairs"][0]["blinded_udi"]["cipher"] = json!("CS");
        let (status, body) = post(path.clone(), cs).await;
        assert_error(status, &body, 400, JSON_INVALID);

        // KUDOS:5 fits the limit of 6; another 5 would not: nothing is signed or
        // charged.
        let (status, body) = post(path.clone(), batch(&key, year, &five)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let more = [planchet(unit(&units, year, "KUDOS:5"), &donor, 4)];
        let (status, body) = post(path.clone(), batch(&key, year, &more)).await;
        assert_error(status, &body, 400, EXCEEDING_DONATION_LIMIT);
        assert_eq!(receipts_to_date(&s, charity).await, "KUDOS:5");
        let one = [planchet(unit(&units, year, "KUDOS:1"), &donor, 5)];
        let (status, body) = post(path.clone(), batch(&key, year, &one)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(receipts_to_date(&s, charity).await, "KUDOS:6");
        s.finish().await;
    }
}

#[tokio::test]
async fn batch_submit_refusals() {
    let year = current_year();
    for b in backends() {
        let s = start(&b).await;
        let (_, units) = keys_of(&s).await;
        let key = SigningKey::from_bytes(&[11; 32]);
        let charity = register(&s, &key, "KUDOS:100").await;
        let donor = donor_hash("99", "pepper");
        let planchets = [
            planchet(unit(&units, year, "KUDOS:1"), &donor, 1),
            planchet(unit(&units, year, "KUDOS:2"), &donor, 2),
        ];
        let (status, issued) = issue(&s, charity, batch(&key, year, &planchets)).await;
        assert_eq!(status, StatusCode::OK, "{issued}");
        let good = receipts(&planchets, &issued, &donor);

        // The same nonce twice in one submission.
        let (status, body) = submit(
            &s,
            submission(&donor, year, vec![good[0].clone(), good[0].clone()]),
        )
        .await;
        assert_error(status, &body, 409, NONCE_REUSE);
        // A signature of another receipt; a receipt of another donor.
        let mut swapped = good[0].clone();
        swapped["donation_unit_sig"] = good[1]["donation_unit_sig"].clone();
        let (status, body) = submit(&s, submission(&donor, year, vec![swapped])).await;
        assert_error(status, &body, 403, RECEIPT_SIGNATURE_INVALID);
        let thief = donor_hash("100", "pepper");
        let (status, body) = submit(&s, submission(&thief, year, good.clone())).await;
        assert_error(status, &body, 403, RECEIPT_SIGNATURE_INVALID);
        // An unknown key, a key of another year.
        let mut unknown = good[0].clone();
        unknown["h_donation_unit_pub"] = json!(keys::encode(&[0u8; 64]));
        let (status, body) = submit(&s, submission(&donor, year, vec![unknown])).await;
        assert_error(status, &body, 404, DONATION_UNIT_UNKNOWN);
        let (status, body) = submit(&s, submission(&donor, year + 1, good.clone())).await;
        assert_error(status, &body, 409, WRONG_YEAR);
        // Nothing was counted by the refusals.
        let path = format!("/donau/donation-statement/{year}/{}", keys::encode(&donor));
        let (status, body) = s.call(Method::GET, &path, None, None).await;
        assert_error(status, &body, 404, ENDPOINT_UNKNOWN);
        let (status, body) = s
            .call(
                Method::GET,
                &format!("/donau/donation-statement/{year}/NOTAHASH"),
                None,
                None,
            )
            .await;
        assert_error(status, &body, 400, PARAMETER_MALFORMED);
        let (status, body) = submit(
            &s,
            json!({
                "h_donor_tax_id": keys::encode(&donor),
                "donation_year": year,
                "donation_receipts": [],
            }),
        )
        .await;
        assert_error(status, &body, 400, JSON_INVALID);

        // Racing submissions of the same receipts count them once.
        let racers = (0..5).map(|_| submit(&s, submission(&donor, year, good.clone())));
        for (status, body) in futures_util::future::join_all(racers).await {
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
        let (_, statement) = s.call(Method::GET, &path, None, None).await;
        assert_eq!(statement["total"], "KUDOS:3");
        s.finish().await;
    }
}

/// A charity's first batch of a new year writes its old year to `GET /history`.
#[tokio::test]
async fn rollover_writes_history() {
    let year = current_year();
    for b in backends() {
        let s = start(&b).await;
        let (_, units) = keys_of(&s).await;
        let (status, body) = s
            .call(Method::GET, "/donau/history", Some(ADMIN_TOKEN), None)
            .await;
        assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
        let (status, body) = s
            .call(Method::GET, "/donau/history", Some("wrong"), None)
            .await;
        assert_error(status, &body, 403, 16);

        let key = SigningKey::from_bytes(&[12; 32]);
        let charity = register(&s, &key, "KUDOS:10").await;
        // The charity as it stands after issuing KUDOS:7 last year.
        use sea_orm::{ConnectionTrait, Statement};
        let db = &s.server.state.db;
        db.execute_raw(Statement::from_string(
            db.get_database_backend(),
            format!(
                "UPDATE donau_charities SET current_year = {}, receipts_to_date = 'KUDOS:7' \
                 WHERE charity_id = {charity}",
                year - 1
            ),
        ))
        .await
        .unwrap();
        let donor = donor_hash("1", "2");
        let five = [planchet(unit(&units, year, "KUDOS:5"), &donor, 1)];
        let (status, body) = issue(&s, charity, batch(&key, year, &five)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(receipts_to_date(&s, charity).await, "KUDOS:5");
        let (status, body) = s
            .call(Method::GET, "/donau/history", Some(ADMIN_TOKEN), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            body,
            json!({ "history": [
                { "charity_id": charity, "final_amount": "KUDOS:7", "donation_year": year - 1 }
            ] })
        );
        s.finish().await;
    }
}

/// Without keys `/keys` is 503; `/csr-issue` is for Clause-Schnorr keys only.
#[tokio::test]
async fn keys_missing_and_csr_issue() {
    for b in backends() {
        // `DONATION_UNIT_VALUES = NONE` (the tests' default): no keys, ever.
        let s = TestServer::start(&b).await;
        for _ in 0..2 {
            let (status, body) = s.call(Method::GET, "/donau/keys", None, None).await;
            assert_error(status, &body, 503, KEYS_MISSING);
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        assert!(
            donau_keys::donation_units(&s.server.state.db)
                .await
                .unwrap()
                .is_empty()
        );
        s.finish().await;

        let s = start(&b).await;
        let (_, units) = keys_of(&s).await;
        let resp = s.req(Method::GET, "/donau/keys").send().await.unwrap();
        assert_eq!(
            resp.headers()["cache-control"].to_str().unwrap(),
            "public, max-age=3600"
        );
        let nonce = keys::encode(&[3u8; 32]);
        let (status, body) = s
            .call(
                Method::POST,
                "/donau/csr-issue",
                None,
                Some(json!({ "nonce": nonce, "du_pub_hash": units[0].hash })),
            )
            .await;
        assert_error(status, &body, 400, CIPHER_FOR_OPERATION);
        let (status, body) = s
            .call(
                Method::POST,
                "/donau/csr-issue",
                None,
                Some(json!({ "nonce": nonce, "du_pub_hash": keys::encode(&[0u8; 64]) })),
            )
            .await;
        assert_error(status, &body, 404, DONATION_UNIT_UNKNOWN);
        s.finish().await;
    }
}
