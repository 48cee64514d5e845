//! Stateless bearer tokens: `base64url(user_id:generation:expiry).base64url(HMAC-SHA256)`.
//! The user is re-read on every request, and a token is only good while the user's token
//! generation is the one it was issued under: a password reset, a role change or disabling
//! the user bumps it, which revokes every token (and console session) at once.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone)]
pub struct TokenKeys {
    secret: Vec<u8>,
    pub ttl_seconds: i64,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("secret", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the bearer token is malformed")]
    Malformed,
    #[error("the bearer token's signature is not valid")]
    BadSignature,
    #[error("the bearer token has expired; log in again")]
    Expired,
}

impl TokenKeys {
    pub fn new(secret: &[u8], ttl_seconds: i64) -> TokenKeys {
        TokenKeys {
            secret: secret.to_vec(),
            ttl_seconds,
        }
    }

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(&self.secret).expect("HMAC accepts keys of any length")
    }

    pub fn issue(&self, user_id: i64, generation: i64, now_unix: i64) -> String {
        let payload = format!("{user_id}:{generation}:{}", now_unix + self.ttl_seconds);
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }

    /// The (user id, token generation) of a valid, unexpired token.
    pub fn verify(&self, token: &str, now_unix: i64) -> Result<(i64, i64), TokenError> {
        let (payload_b64, sig_b64) = token.split_once('.').ok_or(TokenError::Malformed)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload_b64)
            .map_err(|_| TokenError::Malformed)?;
        let signature = URL_SAFE_NO_PAD
            .decode(sig_b64)
            .map_err(|_| TokenError::Malformed)?;
        let mut mac = self.mac();
        mac.update(&payload);
        mac.verify_slice(&signature)
            .map_err(|_| TokenError::BadSignature)?;
        let payload = String::from_utf8(payload).map_err(|_| TokenError::Malformed)?;
        let mut parts = payload.split(':');
        let (Some(user), Some(generation), Some(expiry), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let user_id: i64 = user.parse().map_err(|_| TokenError::Malformed)?;
        let generation: i64 = generation.parse().map_err(|_| TokenError::Malformed)?;
        let expiry: i64 = expiry.parse().map_err(|_| TokenError::Malformed)?;
        if now_unix >= expiry {
            return Err(TokenError::Expired);
        }
        Ok((user_id, generation))
    }
}

impl From<TokenError> for crate::error::AppError {
    fn from(e: TokenError) -> crate::error::AppError {
        crate::error::AppError::Unauthorized(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_token_verifies_until_it_expires() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef", 60);
        let token = keys.issue(42, 3, 1_000);
        assert_eq!(keys.verify(&token, 1_059), Ok((42, 3)));
        assert_eq!(keys.verify(&token, 1_060), Err(TokenError::Expired));
    }

    #[test]
    fn tampered_or_foreign_tokens_are_refused() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef", 60);
        let other = TokenKeys::new(b"another-secret-another-secret-xx", 60);
        let token = keys.issue(1, 0, 0);
        assert_eq!(other.verify(&token, 1), Err(TokenError::BadSignature));
        let forged = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode("2:0:9999"),
            token.split_once('.').unwrap().1
        );
        assert_eq!(keys.verify(&forged, 1), Err(TokenError::BadSignature));
        assert_eq!(keys.verify("garbage", 1), Err(TokenError::Malformed));
    }
}
