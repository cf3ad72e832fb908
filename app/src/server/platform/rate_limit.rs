//! A sliding-window limiter for sign-ins and password checks, kept in memory (losing the
//! counters on restart only forgives a few failed attempts).
//!
//! An attempt is counted when it starts, under one lock with the check, so parallel guesses
//! cannot all pass the check before any is recorded. Memory is bounded: at most `max_keys`
//! keys are tracked; when that many are live, the tenth whose latest attempt is oldest is
//! forgotten to make room (a key under attack is recent, so it is kept; refusing new keys
//! instead would let a spray lock everyone out). Keys are built from bounded input only.
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct RateLimiter {
    max_attempts: usize,
    window: Duration,
    max_keys: usize,
    attempts: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// Keys tracked at most by default: each is a short string and a few instants.
pub const DEFAULT_MAX_KEYS: usize = 100_000;

impl RateLimiter {
    pub fn new(max_attempts: usize, window: Duration) -> Self {
        Self::with_max_keys(max_attempts, window, DEFAULT_MAX_KEYS)
    }

    pub fn with_max_keys(max_attempts: usize, window: Duration, max_keys: usize) -> Self {
        Self {
            max_attempts: max_attempts.max(1),
            window,
            max_keys: max_keys.max(1),
            attempts: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Instant>>> {
        // A poisoned lock only means another request panicked mid-update; the counters are
        // still usable.
        self.attempts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn seconds(duration: Duration) -> u64 {
        duration.as_secs().max(1)
    }

    /// Counts one attempt for `key` now. `Err(seconds to wait)` when the key has used its
    /// attempts in the window (the attempt is then not counted), or when the limiter is full.
    pub fn try_acquire(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let window = self.window;
        let mut attempts = self.lock();
        if !attempts.contains_key(key) && attempts.len() >= self.max_keys {
            attempts.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < window)
            });
            if attempts.len() >= self.max_keys {
                Self::evict_oldest(&mut attempts, self.max_keys / 10 + 1);
            }
        }
        let times = attempts.entry(key.to_owned()).or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            times.pop_front();
        }
        if times.len() >= self.max_attempts {
            let oldest = times.front().copied().unwrap_or(now);
            return Err(Self::seconds(
                window.saturating_sub(now.duration_since(oldest)),
            ));
        }
        times.push_back(now);
        Ok(())
    }

    /// Forgets the `n` keys whose latest attempt is oldest.
    fn evict_oldest(attempts: &mut HashMap<String, VecDeque<Instant>>, n: usize) {
        let mut latest: Vec<(Instant, String)> = attempts
            .iter()
            .filter_map(|(key, times)| times.back().map(|t| (*t, key.clone())))
            .collect();
        let n = n.min(latest.len());
        if n == 0 {
            return;
        }
        latest.select_nth_unstable_by_key(n - 1, |(t, _)| *t);
        for (_, key) in latest.into_iter().take(n) {
            attempts.remove(&key);
        }
    }

    /// Takes back the latest attempt of `key` (a success that should not count).
    pub fn release(&self, key: &str) {
        let mut attempts = self.lock();
        if let Some(times) = attempts.get_mut(key) {
            times.pop_back();
            if times.is_empty() {
                attempts.remove(key);
            }
        }
    }

    /// Forgets `key` (after a successful sign-in).
    pub fn reset(&self, key: &str) {
        self.lock().remove(key);
    }

    /// Keys tracked now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn blocks_after_max_attempts_and_resets_on_success() {
        let limiter = RateLimiter::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(limiter.try_acquire("ip|alice").is_ok());
        }
        let wait = limiter.try_acquire("ip|alice").unwrap_err();
        assert!((1..=60).contains(&wait));
        assert!(
            limiter.try_acquire("ip|bob").is_ok(),
            "keys are independent"
        );
        limiter.reset("ip|alice");
        assert!(limiter.try_acquire("ip|alice").is_ok());
    }

    #[test]
    fn release_takes_back_one_attempt() {
        let limiter = RateLimiter::new(2, Duration::from_secs(60));
        limiter.try_acquire("k").unwrap();
        limiter.try_acquire("k").unwrap();
        limiter.release("k");
        assert!(limiter.try_acquire("k").is_ok());
        assert!(limiter.try_acquire("k").is_err());
    }

    #[test]
    fn window_expires() {
        let limiter = RateLimiter::new(1, Duration::from_millis(50));
        limiter.try_acquire("k").unwrap();
        assert!(limiter.try_acquire("k").is_err());
        std::thread::sleep(Duration::from_millis(60));
        assert!(limiter.try_acquire("k").is_ok());
    }

    #[test]
    fn parallel_attempts_cannot_outrun_the_count() {
        let limiter = Arc::new(RateLimiter::new(5, Duration::from_secs(60)));
        let passed: usize = (0..50)
            .map(|_| {
                let limiter = limiter.clone();
                std::thread::spawn(move || limiter.try_acquire("ip|alice").is_ok())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| usize::from(t.join().unwrap_or(false)))
            .sum();
        assert_eq!(passed, 5);
    }

    #[test]
    fn memory_is_bounded_and_the_oldest_keys_make_room() {
        let limiter = RateLimiter::with_max_keys(2, Duration::from_secs(60), 100);
        for i in 0..100 {
            limiter.try_acquire(&format!("user{i}")).unwrap();
        }
        // A key counts while it is recent.
        limiter.try_acquire("user99").unwrap();
        assert!(limiter.try_acquire("user99").is_err());
        for i in 0..500 {
            assert!(
                limiter.try_acquire(&format!("spray{i}")).is_ok(),
                "never locked out"
            );
            assert!(limiter.len() <= 100);
        }
        assert!(
            limiter.try_acquire("user0").is_ok(),
            "an old key was forgotten"
        );
        let short = RateLimiter::with_max_keys(5, Duration::from_millis(20), 10);
        for i in 0..10 {
            short.try_acquire(&format!("u{i}")).unwrap();
        }
        std::thread::sleep(Duration::from_millis(30));
        assert!(
            short.try_acquire("new").is_ok(),
            "expired windows make room"
        );
        assert_eq!(short.len(), 1);
    }
}
