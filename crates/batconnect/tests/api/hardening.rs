//! Hostile traffic (issue 15): login floods, revoked tokens, the last admin.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::TestApp;

async fn user_id(app: &TestApp, username: &str) -> i64 {
    let (status, users) = app.get_as("admin", "/auth/users").await;
    assert_eq!(status, StatusCode::OK, "{users}");
    users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == username)
        .and_then(|u| u["id"].as_i64())
        .unwrap()
}

async fn me(app: &TestApp, token: &str) -> StatusCode {
    app.send(reqwest::Method::GET, "/auth/me", Some(token), None)
        .await
        .0
}

async fn fresh_token(app: &TestApp, username: &str, password: &str) -> String {
    let (status, body) = app.login(username, password).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

both_backends! {
    async fn repeated_wrong_logins_are_throttled_with_retry_after(app) {
        for attempt in 1..=5 {
            let (status, body) = app.login("finance", "not the password").await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {attempt}: {body}");
        }
        // Even the right password waits now: the throttle answers before any hash runs.
        let hashes = app.state.login_guard.verifications();
        let response = app
            .client
            .post(app.url("/auth/login"))
            .json(&json!({"username": "finance", "password": "demo-finance"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        let retry: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=30).contains(&retry), "{retry}");
        assert_eq!(response.headers()["content-type"], "application/problem+json");
        assert_eq!(app.state.login_guard.verifications(), hashes);
        // Another user from the same address is not locked out by finance's failures.
        fresh_token(app, "operations", "demo-operations").await;
    }

    async fn an_unknown_username_costs_a_hash_like_a_known_one(app) {
        let before = app.state.login_guard.verifications();
        let (status, body) = app.login("nobody-here", "whatever it is").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["detail"], "unknown username or wrong password");
        assert_eq!(app.state.login_guard.verifications(), before + 1);
        let (status, _) = app.login("viewer", "wrong password").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(app.state.login_guard.verifications(), before + 2);
    }

    async fn every_401_says_how_to_authenticate(app) {
        for token in [None, Some("garbage")] {
            let mut request = app.client.get(app.url("/auth/me"));
            if let Some(t) = token {
                request = request.bearer_auth(t);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(response.headers()["www-authenticate"], "Bearer");
        }
    }

    async fn a_password_reset_a_role_change_and_disabling_revoke_tokens(app) {
        let finance = user_id(app, "finance").await;
        // Password reset.
        let old = fresh_token(app, "finance", "demo-finance").await;
        assert_eq!(me(app, &old).await, StatusCode::OK);
        let (status, body) = app
            .post_as("admin", &format!("/auth/users/{finance}/password"), json!({"password": "a new password"}))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        assert_eq!(me(app, &old).await, StatusCode::UNAUTHORIZED);
        // A role change.
        let token = fresh_token(app, "finance", "a new password").await;
        let admin = app.token("admin").await;
        let (status, body) = app
            .send(reqwest::Method::PUT, &format!("/auth/users/{finance}/roles"), Some(&admin), Some(json!({"roles": ["finance", "viewer"]})))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        assert_eq!(me(app, &token).await, StatusCode::UNAUTHORIZED);
        // Disabling, then enabling.
        let token = fresh_token(app, "finance", "a new password").await;
        let (status, body) = app.post_as("admin", &format!("/auth/users/{finance}/disable"), Value::Null).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["is_active"], false);
        assert_eq!(me(app, &token).await, StatusCode::UNAUTHORIZED);
        let (status, _) = app.login("finance", "a new password").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, body) = app.post_as("admin", &format!("/auth/users/{finance}/enable"), Value::Null).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["is_active"], true);
        let token = fresh_token(app, "finance", "a new password").await;
        assert_eq!(me(app, &token).await, StatusCode::OK);
        // Only an admin may do it.
        let (status, _) = app.post_as("operations", &format!("/auth/users/{finance}/disable"), Value::Null).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }

    async fn the_last_active_admin_cannot_lock_everyone_out(app) {
        let admin_id = user_id(app, "admin").await;
        let admin = app.token("admin").await;
        let (status, body) = app
            .send(reqwest::Method::PUT, &format!("/auth/users/{admin_id}/roles"), Some(&admin), Some(json!({"roles": ["finance"]})))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(body["detail"].as_str().unwrap().contains("last active admin"), "{body}");
        let (status, body) = app.post_as("admin", &format!("/auth/users/{admin_id}/disable"), Value::Null).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        // With a second admin, the first may step down.
        let (status, body) = app
            .post_as("admin", "/auth/users", json!({"username": "second-admin", "password": "second admin pass", "roles": ["admin"]}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = app
            .send(reqwest::Method::PUT, &format!("/auth/users/{admin_id}/roles"), Some(&admin), Some(json!({"roles": ["finance"]})))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
}

/// A request with a raw body and content type; status, headers and the parsed JSON body.
async fn raw(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let token = app.token("admin").await;
    let mut request = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(ct) = content_type {
        request = request.header("content-type", ct);
    }
    let response = request.body(body).send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

both_backends! {
    async fn nul_bytes_and_control_characters_are_refused_by_name(app) {
        // A JSON body: the NUL escape in a name, a tab in an identifier.
        let body = br#"{"first_name": "Ana\u0000", "last_name": "Lee", "tlc_license_no": "5550001"}"#.to_vec();
        let (status, _, problem) = raw(app, reqwest::Method::POST, "/fleet/drivers", Some("application/json"), body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["pointer"], "/first_name");
        assert_eq!(problem["errors"][0]["message"], "must not contain a NUL character");
        let body = serde_json::to_vec(&json!({"first_name": "Ana", "last_name": "Lee\tJr", "tlc_license_no": "5550001"})).unwrap();
        let (status, _, problem) = raw(app, reqwest::Method::POST, "/fleet/drivers", Some("application/json"), body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "last_name");
        // The login body too, before any hash runs.
        let (status, problem) = app.login("adm\u{0}in", "whatever").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        // A path and a query parameter.
        let (status, _, problem) = raw(app, reqwest::Method::GET, "/payments/vehicle-repairs/RPR%00X", None, Vec::new()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains("NUL"), "{problem}");
        let (status, _, problem) = raw(app, reqwest::Method::GET, "/payments/vehicle-repairs?driver_name=a%00b", None, Vec::new()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "driver_name");
        // Free text keeps its line breaks.
        let case_no = app.create_repair_case().await;
        let mut data = app.invoice_data(1, "300.00", "CTRL-1");
        data["notes"] = json!("Bumper\nHeadlight\tleft");
        let (status, body) = app.submit_step(&case_no, data).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let mut data = app.invoice_data(2, "300.00", "CTRL\u{1b}-2");
        data["notes"] = json!("ok");
        let case_no = app.create_repair_case().await;
        let (status, body) = app.submit_step(&case_no, data).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["field"], "invoice_number");
    }
}

crate::both_backends! {
    async fn http_semantics_of_a_careful_api(app) {
        // 415 for a body that is not declared JSON.
        let (status, headers, problem) = raw(app, reqwest::Method::POST, "/ledger/earnings", Some("text/plain"), b"{}".to_vec()).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{problem}");
        assert_eq!(headers["content-type"], "application/problem+json");
        let (status, _, _) = raw(app, reqwest::Method::POST, "/ledger/earnings", None, b"{}".to_vec()).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        // 413 for a body over the limit.
        // The answer comes before the body is read, and the server then closes: a client still
        // writing 3 MB may see the close first, so the request is written by hand and the
        // answer read as soon as it comes.
        {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let token = app.token("admin").await;
            let address = app.address.trim_start_matches("http://").to_string();
            let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
            let head = format!("POST /ledger/earnings HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
                Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{{\"earnings\": [", 3 * 1024 * 1024 + 16);
            stream.write_all(head.as_bytes()).await.unwrap();
            let mut answer = vec![0u8; 2048];
            let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut answer)).await.unwrap().unwrap();
            let answer = String::from_utf8_lossy(&answer[..n]).to_string();
            assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
            assert!(answer.contains("application/problem+json"), "{answer}");
        }
        // The 413 left the rest of its body unread: the server closed that connection, and
        // this client sends its next request on a new one (it failed here before).
        // A path parameter that does not parse is a problem, not plain text.
        let (status, headers, problem) = raw(app, reqwest::Method::GET, "/dtrs/abc", None, Vec::new()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        assert_eq!(headers["content-type"], "application/problem+json");
        assert!(problem["detail"].as_str().unwrap().contains("abc"), "{problem}");
        // A single-valued parameter given twice or empty; a list filter may repeat.
        for query in ["page=1&page=2", "page="] {
            let (status, _, problem) = raw(app, reqwest::Method::GET, &format!("/payments/vehicle-repairs?{query}"), None, Vec::new()).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {problem}");
            assert_eq!(problem["errors"][0]["field"], "page", "{problem}");
        }
        let (status, _, problem) = raw(app, reqwest::Method::GET, "/payments/vehicle-repairs?status=Open&status=Hold", None, Vec::new()).await;
        assert_eq!(status, StatusCode::OK, "{problem}");
        // Defensive headers on every response.
        let (_, headers, _) = raw(app, reqwest::Method::GET, "/auth/me", None, Vec::new()).await;
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert!(headers["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
        let docs = app.client.get(app.url("/docs/")).send().await.unwrap();
        assert_eq!(docs.status(), StatusCode::OK);
        let policy = docs.headers()["content-security-policy"].to_str().unwrap().to_string();
        assert!(policy.contains("script-src 'self' 'unsafe-inline'"), "{policy}");
    }
}

crate::both_backends! {
    async fn a_viewer_learns_403_before_anything_about_the_body(app) {
        let case_no = app.create_repair_case().await;
        let token = app.token("viewer").await;
        let response = app
            .client
            .post(app.url(&format!("/case/{case_no}")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        // Operations with no body: the body is what is wrong.
        let token = app.token("operations").await;
        let response = app
            .client
            .post(app.url(&format!("/case/{case_no}")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
}

crate::both_backends! {
    async fn step_errors_point_at_the_field_in_words(app) {
        let case_no = app.create_repair_case().await;
        let mut data = app.invoice_data(1, "12.345", "MSG-1");
        data.as_object_mut().unwrap().remove("invoice_number");
        data["driver_id"] = json!([1]);
        data["colour"] = json!("red");
        let (status, body) = app.submit_step(&case_no, data).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let errors = body["errors"].as_array().unwrap();
        let message = |pointer: &str| {
            errors
                .iter()
                .find(|e| e["pointer"] == pointer)
                .and_then(|e| e["message"].as_str())
                .unwrap_or_else(|| panic!("no error at {pointer}: {body}"))
                .to_string()
        };
        assert!(message("/data/total_amount").contains("positive amount in dollars with at most two decimals"));
        assert_eq!(message("/data/invoice_number"), "is required");
        assert!(message("/data/driver_id").contains("internal id"));
        assert_eq!(message("/data/colour"), "is not a field of this step");
        let text = body.to_string();
        for jargon in ["oneOf", "^[0-9]", "expected struct", "line 1 column"] {
            assert!(!text.contains(jargon), "{jargon} in {text}");
        }
        // A body of the wrong shape says so in words, naming the field.
        let (status, body) = app
            .post_as("operations", &format!("/case/{case_no}"), json!({"step_id": "REPAIR_ENTER_DETAILS", "data": "text"}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let (status, body) = app.post_as("operations", &format!("/case/{case_no}"), json!([1, 2])).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["message"], "must be a JSON object", "{body}");
        let (status, body) = app.post_as("finance", "/ledger/earnings", json!({"earnings": [{"lease_id": 1, "driver_id": "x", "period": "2026-11-22", "amount": "1.00"}]})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["field"], "earnings[0].driver_id", "{body}");
        assert_eq!(body["errors"][0]["message"], "must be a whole number", "{body}");
    }
}

crate::both_backends! {
    async fn an_empty_list_filter_is_refused_not_ignored(app) {
        let case_no = app.create_repair_case().await;
        let case_path = format!("/case/{case_no}?tlc_license_no=");
        for path in ["/ledger/balances?lease_id=", "/ledger/postings?lease_id=", "/dtrs?lease_id=", "/payments/vehicle-repairs?status=",
            "/payments/vehicle-repairs/list/export?format=", "/payments/vehicle-repairs/list/export?per_page=0", case_path.as_str()] {
            let (status, body) = app.get_as("finance", path).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {body}");
            assert!(body["errors"][0]["field"].is_string(), "{body}");
        }
        // A control character in a query parameter names it once.
        let (status, body) = app.get_as("viewer", "/payments/vehicle-repairs?driver_name=a%01b").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let detail = body["detail"].as_str().unwrap();
        assert_eq!(detail.matches("driver_name").count(), 1, "{detail}");
    }

    async fn the_openapi_document_tells_every_error_answer(app) {
        let document: Value = app.client.get(app.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
        let mut checked = 0;
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let responses = operation["responses"].as_object().unwrap();
                for (code, response) in responses {
                    // Error answers are problem details (readiness says what is down in its
                    // own Health body).
                    if (code.starts_with('4') || code.starts_with('5')) && path != "/readyz" {
                        assert!(response["content"]["application/problem+json"].is_object(), "{method} {path} {code}: {response}");
                        assert!(response["content"].get("application/json").is_none(), "{method} {path} {code}");
                    }
                }
                let public = ["/healthz", "/readyz", "/auth/login"].contains(&path.as_str());
                for code in ["400", "422", "500"] {
                    assert!(responses.contains_key(code), "{method} {path} lacks {code}");
                }
                if !public {
                    assert!(responses.contains_key("401") && responses.contains_key("403"), "{method} {path}");
                }
                if operation.get("requestBody").is_some() {
                    assert!(responses.contains_key("413") && responses.contains_key("415"), "{method} {path}");
                }
                if path.contains('{') {
                    assert!(responses.contains_key("404"), "{method} {path}");
                }
                checked += 1;
            }
        }
        assert!(checked > 50, "{checked} operations");
        let details = &document["components"]["schemas"]["AuditRecord"]["properties"]["details"];
        assert!(details.to_string().contains("null"), "AuditRecord.details must be nullable: {details}");
        // List parameters carry their rules.
        let params = document["paths"]["/payments/vehicle-repairs"]["get"]["parameters"].as_array().unwrap();
        let per_page = params.iter().find(|p| p["name"] == "per_page").unwrap();
        assert_eq!(per_page["schema"]["maximum"], 100, "{per_page}");
        let status = params.iter().find(|p| p["name"] == "status").unwrap();
        assert_eq!(status["schema"]["minLength"], 1, "{status}");
    }
}
