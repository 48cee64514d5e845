use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;

both_backends! {
    async fn login_returns_a_bearer_token_and_me_shows_roles(app) {
        let (status, body) = app.login("admin", crate::helpers::ADMIN_PASSWORD).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["token_type"], "bearer");
        assert!(body["expires_in"].as_i64().unwrap() > 0);
        let (status, me) = app.get_as("finance", "/auth/me").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(me["username"], "finance");
        assert_eq!(me["roles"], json!(["finance"]));
    }

    async fn wrong_password_and_bad_tokens_are_401(app) {
        let (status, body) = app.login("admin", "not-the-password").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["status"], 401);
        let (status, _) = app.send(Method::GET, "/auth/me", Some("forged.token"), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, body) = app.send(Method::GET, "/auth/me", None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(body["detail"].as_str().unwrap().contains("Bearer"));
    }

    async fn every_protected_route_needs_a_token_and_viewers_cannot_write(app) {
        let (_, spec) = app.send(Method::GET, "/openapi.json", None, None).await;
        let public = ["/healthz", "/readyz", "/auth/login"];
        let viewer = app.token("viewer").await;
        // A real case, so the case routes get past "no such case" to the role check.
        app.create_repair_case().await;
        // One body that every write endpoint can parse, so the role check decides.
        let any_body = json!({"step_id": "REPAIR_ENTER_DETAILS", "data": {}, "case_type": "RPRINV", "action": "next"});
        let mut checked = 0;
        for (path, item) in spec["paths"].as_object().unwrap() {
            if public.contains(&path.as_str()) {
                continue;
            }
            // Fill path parameters with plausible values.
            let concrete = path
                .replace("{case_no}", "RPRINV000001")
                .replace("{step_id}", "REPAIR_ENTER_DETAILS")
                .replace("{repair_id}", "RPR-2026-00001")
                .replace("{prefix}", "RPRINV")
                .replace("{id}", "1");
            for method in item.as_object().unwrap().keys() {
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let body = (method != Method::GET).then(|| any_body.clone());
                let (status, problem) = app.send(method.clone(), &concrete, None, body.clone()).await;
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {concrete} without a token: {problem}");
                if method != Method::GET {
                    let (status, problem) = app.send(method.clone(), &concrete, Some(&viewer), body).await;
                    assert_eq!(status, StatusCode::FORBIDDEN, "{method} {concrete} as viewer: {problem}");
                }
                checked += 1;
            }
        }
        assert!(checked >= 25, "only {checked} routes checked");
    }

    async fn only_admins_manage_users(app) {
        let new_user = json!({"username": "cashier1", "password": "cashier-pass", "roles": ["operations"]});
        let (status, _) = app.post_as("operations", "/auth/users", new_user.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, created) = app.post_as("admin", "/auth/users", new_user.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let (status, problem) = app.post_as("admin", "/auth/users", new_user).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(problem["detail"].as_str().unwrap().contains("username"), "{problem}");
        let id = created["id"].as_i64().unwrap();
        let admin = app.token("admin").await;
        let (status, _) = app.send(Method::PUT, &format!("/auth/users/{id}/roles"), Some(&admin), Some(json!({"roles": ["finance", "viewer"]}))).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, problem) = app.send(Method::PUT, &format!("/auth/users/{id}/roles"), Some(&admin), Some(json!({"roles": ["boss"]}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "roles");
        let (status, _) = app.send(Method::POST, &format!("/auth/users/{id}/password"), Some(&admin), Some(json!({"password": "a-new-password"}))).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = app.login("cashier1", "a-new-password").await;
        assert_eq!(status, StatusCode::OK);
        let token = body["access_token"].as_str().unwrap();
        let (_, me) = app.send(Method::GET, "/auth/me", Some(token), None).await;
        assert_eq!(me["roles"], json!(["finance", "viewer"]));
        let (status, _) = app.login("cashier1", "cashier-pass").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}
