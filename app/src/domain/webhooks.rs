//! Webhooks: the events a receiver can subscribe to, what a webhook's URL and secret must be,
//! how a delivery is signed and when a failed one is tried again.
use crate::domain::values::string_enum;
use chrono::Duration;

string_enum! {
    /// What a webhook can be told about. The wire form is the `X-Aegis-Event` header.
    pub enum WebhookEvent ("webhook event") {
        TestStateChanged = "test.state_changed" / "A test moved to another state",
        TestValidated = "test.validated" / "A test was validated by both leads",
        TestRejected = "test.rejected" / "A test was rejected",
        CampaignCompleted = "campaign.completed" / "A campaign completed",
        IntelMatched = "intel.matched" / "A threat-intel scan found techniques to look at",
        Ping = "ping" / "A test ping from the Webhooks panel",
    }
}

impl WebhookEvent {
    /// The events a webhook subscribes to (a ping goes to the one webhook asked).
    pub const SUBSCRIBABLE: [WebhookEvent; 5] = [
        WebhookEvent::TestStateChanged,
        WebhookEvent::TestValidated,
        WebhookEvent::TestRejected,
        WebhookEvent::CampaignCompleted,
        WebhookEvent::IntelMatched,
    ];
}

string_enum! {
    /// Where one delivery stands.
    pub enum DeliveryStatus ("delivery status") {
        Pending = "pending" / "Pending",
        Delivered = "delivered" / "Delivered",
        Failed = "failed" / "Failed",
    }
}

/// Longest webhook URL.
pub const URL_MAX: usize = 2_000;
/// A secret's bounds, in bytes.
pub const SECRET_MIN: usize = 16;
pub const SECRET_MAX: usize = 256;
/// Attempts before a delivery is given up.
pub const ATTEMPTS_MAX: i32 = 6;
/// The most of a receiver's answer kept in the log.
pub const RESPONSE_KEPT: usize = 1_000;

/// Only `http` and `https` URLs with a host, of bounded length.
pub fn check_url(url: &str) -> Result<(), String> {
    let url = url.trim();
    if url.is_empty() {
        return Err("URL is required".into());
    }
    if url.len() > URL_MAX {
        return Err(format!("At most {URL_MAX} characters"));
    }
    let rest = if let Some(rest) = url.strip_prefix("https://") {
        rest
    } else if let Some(rest) = url.strip_prefix("http://") {
        rest
    } else {
        return Err("Only http:// and https:// URLs can receive webhooks".into());
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit('@').next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        return Err("The URL has no host".into());
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("The URL must not contain spaces".into());
    }
    Ok(())
}

pub fn check_secret(secret: &str) -> Result<(), String> {
    if secret.len() < SECRET_MIN {
        Err(format!("At least {SECRET_MIN} characters"))
    } else if secret.len() > SECRET_MAX {
        Err(format!("At most {SECRET_MAX} characters"))
    } else {
        Ok(())
    }
}

/// The longest wait between two attempts.
pub const BACKOFF_MAX: Duration = Duration::hours(6);

/// The wait before the next attempt after attempt `attempt` (1-based) failed: `first`, then
/// four times longer each time (30 s, 2 min, 8 min, 32 min, 2 h 8 min by default), at most
/// [`BACKOFF_MAX`]; `None` once the attempts are spent.
pub fn backoff(attempt: i32, first: Duration) -> Option<Duration> {
    if !(1..ATTEMPTS_MAX).contains(&attempt) {
        return None;
    }
    let factor = 4i32.pow((attempt - 1) as u32);
    Some((first * factor).min(BACKOFF_MAX))
}

/// A receiver's status code is success when 2xx.
pub fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_http_or_https_with_a_host() {
        assert!(check_url("https://hooks.example.com/aegis").is_ok());
        assert!(check_url("http://127.0.0.1:8080/x?y=1").is_ok());
        for bad in [
            "",
            "ftp://example.com",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "https://",
            "https:///path",
            "http://:80/",
            "https://exa mple.com",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
        assert!(check_url(&format!("https://e.com/{}", "a".repeat(URL_MAX))).is_err());
    }

    #[test]
    fn secrets_are_bounded() {
        assert!(check_secret("short").is_err());
        assert!(check_secret(&"s".repeat(16)).is_ok());
        assert!(check_secret(&"s".repeat(257)).is_err());
    }

    #[test]
    fn failed_deliveries_back_off_then_give_up() {
        let first = Duration::seconds(30);
        assert_eq!(backoff(1, first), Some(Duration::seconds(30)));
        assert_eq!(backoff(2, first), Some(Duration::minutes(2)));
        assert_eq!(backoff(5, first), Some(Duration::seconds(30 * 256)));
        assert_eq!(backoff(5, Duration::hours(1)), Some(BACKOFF_MAX));
        assert_eq!(backoff(ATTEMPTS_MAX, first), None);
        assert_eq!(backoff(0, first), None);
        let mut waits: Vec<Duration> = (1..ATTEMPTS_MAX)
            .filter_map(|a| backoff(a, first))
            .collect();
        assert_eq!(waits.len() as i32, ATTEMPTS_MAX - 1);
        let sorted = {
            waits.sort();
            waits.clone()
        };
        assert_eq!(waits, sorted);
        assert!(is_success(204) && !is_success(301) && !is_success(500));
    }

    #[test]
    fn events_are_named_as_on_the_wire() {
        assert_eq!(WebhookEvent::TestValidated.as_str(), "test.validated");
        assert_eq!(
            "campaign.completed".parse::<WebhookEvent>(),
            Ok(WebhookEvent::CampaignCompleted)
        );
        assert!(!WebhookEvent::SUBSCRIBABLE.contains(&WebhookEvent::Ping));
    }
}
