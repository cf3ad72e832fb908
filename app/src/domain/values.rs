//! Values with a fixed set of cases, each declared once with [`string_enum!`]: the Rust enum,
//! its one wire and database form (a snake_case string), a label for people, `ALL`,
//! `Display`, `FromStr` and serde. On the server the same enums are SeaORM active enums, so
//! entities carry them too and no code compares their strings.

/// Declares a value with a fixed set of cases. `$what` names it in error messages
/// ("Unknown severity 'x'; expected one of: low, medium, high, critical").
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal / $label:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
        )]
        #[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
        #[cfg_attr(
            feature = "ssr",
            sea_orm(rs_type = "String", db_type = "String(sea_orm::sea_query::StringLen::None)")
        )]
        $vis enum $name {
            $(
                $(#[$vmeta])*
                #[serde(rename = $wire)]
                #[cfg_attr(feature = "ssr", sea_orm(string_value = $wire))]
                $variant,
            )+
        }

        impl $name {
            /// Every case, in declaration order.
            pub const ALL: [$name; [$($wire),+].len()] = [$($name::$variant),+];

            /// The wire and database form.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)+
                }
            }

            /// How people read it.
            pub fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label,)+
                }
            }

            /// The wire forms, for messages and form options.
            pub fn names() -> Vec<&'static str> {
                Self::ALL.iter().map(|value| value.as_str()).collect()
            }
        }

        impl $crate::domain::values::Choice for $name {
            fn choices() -> Vec<&'static str> {
                Self::names()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// In the API description: a string with the fixed set of wire forms.
        #[cfg(feature = "ssr")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($wire),+]))
                    .into()
            }
        }

        #[cfg(feature = "ssr")]
        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .into_iter()
                    .find(|value| value.as_str() == s)
                    .ok_or_else(|| {
                        format!(
                            "Unknown {} '{s}'; expected one of: {}",
                            $what,
                            Self::names().join(", ")
                        )
                    })
            }
        }
    };
}

pub(crate) use string_enum;

/// A value from a fixed set: parsed from its wire form, with the set's names for messages.
pub trait Choice: std::str::FromStr<Err = String> + Copy {
    fn choices() -> Vec<&'static str>;
}

string_enum! {
    /// How bad it is when the attack succeeds: tests and catalog templates.
    #[derive(Default)]
    pub enum Severity ("severity") {
        Low = "low" / "Low",
        #[default]
        Medium = "medium" / "Medium",
        High = "high" / "High",
        Critical = "critical" / "Critical",
    }
}

string_enum! {
    /// What the blue team saw when the attack ran.
    pub enum DetectionResult ("detection result") {
        Detected = "detected" / "Detected",
        NotDetected = "not_detected" / "Not detected",
        Partial = "partial" / "Partially detected",
    }
}

impl DetectionResult {
    /// A gap: the attack was missed, or only partly seen.
    pub fn is_gap(self) -> bool {
        matches!(
            self,
            DetectionResult::NotDetected | DetectionResult::Partial
        )
    }
}

string_enum! {
    /// Where the fix for a gap stands: a test's remediation and each of its steps.
    #[derive(Default)]
    pub enum RemediationStatus ("remediation status") {
        #[default]
        NotStarted = "not_started" / "Not started",
        InProgress = "in_progress" / "In progress",
        Done = "done" / "Done",
        WontFix = "wont_fix" / "Won't fix",
    }
}

impl RemediationStatus {
    /// Work remains: neither done nor declined.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            RemediationStatus::NotStarted | RemediationStatus::InProgress
        )
    }
}

/// The SQL list `('a', 'b')` of the values `keep` selects. The values are the enums' own
/// fixed names, never input, so they are safe to inline.
pub fn sql_list<T: Copy>(all: &[T], name: fn(T) -> &'static str, keep: fn(T) -> bool) -> String {
    let names: Vec<String> = all
        .iter()
        .copied()
        .filter(|v| keep(*v))
        .map(|v| format!("'{}'", name(v)))
        .collect();
    format!("({})", names.join(", "))
}

string_enum! {
    /// Where a catalog template comes from.
    pub enum TemplateSource ("template source") {
        AtomicRedTeam = "atomic_red_team" / "Atomic Red Team",
        Mitre = "mitre" / "MITRE ATT&CK procedure",
        Custom = "custom" / "Custom",
        Caldera = "caldera" / "MITRE CALDERA",
        Lolbas = "lolbas" / "LOLBAS",
        Gtfobins = "gtfobins" / "GTFOBins",
    }
}

/// Parses a value people typed: trimmed, any case. `Err` carries the message for the field.
pub fn parse_choice<T>(raw: &str) -> Result<T, String>
where
    T: std::str::FromStr<Err = String>,
{
    raw.trim().to_lowercase().parse()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_forms_round_trip_through_display_fromstr_and_serde() {
        for value in Severity::ALL {
            assert_eq!(value.to_string().parse::<Severity>(), Ok(value));
            let json = serde_json::to_string(&value).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", value.as_str()));
            assert_eq!(serde_json::from_str::<Severity>(&json).ok(), Some(value));
        }
        for value in DetectionResult::ALL {
            assert_eq!(value.as_str().parse::<DetectionResult>(), Ok(value));
        }
        for value in RemediationStatus::ALL {
            assert_eq!(value.as_str().parse::<RemediationStatus>(), Ok(value));
        }
        assert_eq!(DetectionResult::NotDetected.as_str(), "not_detected");
        assert_eq!(RemediationStatus::WontFix.as_str(), "wont_fix");
    }

    #[test]
    fn unknown_values_name_the_choices() {
        assert_eq!(
            "urgent".parse::<Severity>(),
            Err("Unknown severity 'urgent'; expected one of: low, medium, high, critical".into())
        );
        assert_eq!(parse_choice::<Severity>("  HIGH "), Ok(Severity::High));
        assert!(parse_choice::<RemediationStatus>("finished").is_err());
    }

    #[test]
    fn gaps_open_work_and_their_sql() {
        assert!(DetectionResult::NotDetected.is_gap() && DetectionResult::Partial.is_gap());
        assert!(!DetectionResult::Detected.is_gap());
        assert!(RemediationStatus::NotStarted.is_open() && RemediationStatus::InProgress.is_open());
        assert!(!RemediationStatus::Done.is_open() && !RemediationStatus::WontFix.is_open());
        assert_eq!(
            sql_list(
                &DetectionResult::ALL,
                DetectionResult::as_str,
                DetectionResult::is_gap
            ),
            "('not_detected', 'partial')"
        );
        assert_eq!(
            sql_list(
                &RemediationStatus::ALL,
                RemediationStatus::as_str,
                RemediationStatus::is_open
            ),
            "('not_started', 'in_progress')"
        );
    }

    #[test]
    fn order_is_declaration_order() {
        assert!(Severity::Low < Severity::Critical);
        assert_eq!(Severity::names(), ["low", "medium", "high", "critical"]);
        assert_eq!(Severity::default(), Severity::Medium);
        assert_eq!(RemediationStatus::default(), RemediationStatus::NotStarted);
    }
}
