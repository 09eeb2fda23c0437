//! # agent-os-persona-sdk
//!
//! Write a reviewer persona for [Agent OS Personas] as a sandboxed
//! WebAssembly component. A persona is one type implementing [`Persona`] and
//! one [`export_persona!`] line; everything it needs from the outside world
//! it asks the host for through the functions in [`host`], and the host
//! grants only what the persona's `persona.toml` declares.
//!
//! ```ignore
//! use agent_os_persona_sdk::{export_persona, host, Info, Persona, Phase, Request};
//!
//! struct Accessibility;
//!
//! impl Persona for Accessibility {
//!     fn describe() -> Info {
//!         Info::new("a11y", "Accessibility Reviewer", "accessibility", "0.1.0")
//!     }
//!
//!     fn review(req: Request) -> Result<String, String> {
//!         host::report_progress(Phase::Analyzing, 50, "Checking alt text");
//!         let code = req.context.unwrap_or_default();
//!         let missing = code.lines().filter(|l| l.contains("<img") && !l.contains("alt=")).count();
//!         Ok(format!("{missing} image(s) without alt text"))
//!     }
//! }
//!
//! export_persona!(Accessibility);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2`; the `.wasm`
//! in `target/wasm32-wasip2/release/` is the component to install.
//!
//! The crate's README has a complete persona with its manifest and the
//! commands to build and install it.
//!
//! [Agent OS Personas]: https://github.com/agent-os/personas

#![warn(missing_docs)]

pub mod about;
pub mod brief;
pub mod context;
pub mod flow;
pub mod host;
#[cfg(feature = "javascript")]
pub mod javascript;
#[cfg(any(feature = "python", feature = "javascript"))]
mod nesting;
pub mod paths;
#[cfg(feature = "python")]
pub mod python;
pub mod quote;
pub mod testing;

/// Generated bindings for the `agent-os:persona` WIT world. Use the
/// re-exports at the crate root instead; this module is public only so the
/// [`export_persona!`] macro can reach it.
#[doc(hidden)]
#[allow(missing_docs)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "persona",
        path: "../wit/v0.1.0",
        pub_export_macro: true,
        export_macro_name: "__export_persona_world",
        default_bindings_module: "agent_os_persona_sdk::bindings",
        generate_all,
    });
}

/// The language model's answer and its token counts.
pub use bindings::agent_os::persona::types::Completion;
/// Why the host refused a call: access denied, not found, invalid input or unavailable.
pub use bindings::agent_os::persona::types::Error as HostError;
/// A passage of a standard returned by [`host::search_standards`].
pub use bindings::agent_os::persona::types::Hit;
/// The persona's identity, returned by [`Persona::describe`].
pub use bindings::agent_os::persona::types::Info;
/// One message of a conversation sent with [`host::complete`].
pub use bindings::agent_os::persona::types::Message;
/// The phase reported with [`host::report_progress`].
pub use bindings::agent_os::persona::types::Phase;
/// The review request: task, optional context and feedback, and the persona's prompt.
pub use bindings::agent_os::persona::types::Request;
/// Who speaks in a [`Message`] to the language model.
pub use bindings::agent_os::persona::types::Role;

/// The WIT package version this SDK was built against; a persona's
/// `persona.toml` declares it as `api`.
pub const API_VERSION: &str = "0.1.0";

impl Info {
    /// Builds an [`Info`] from its four fields.
    pub fn new(id: &str, name: &str, domain: &str, version: &str) -> Self {
        Info { id: id.to_string(), name: name.to_string(), domain: domain.to_string(), version: version.to_string() }
    }
}

impl Message {
    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Message { role: Role::System, content: content.into() }
    }
    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Message { role: Role::User, content: content.into() }
    }
}

impl HostError {
    /// The host's explanation, whatever the kind of error.
    pub fn message(&self) -> &str {
        match self {
            HostError::AccessDenied(m)
            | HostError::NotFound(m)
            | HostError::InvalidInput(m)
            | HostError::Unavailable(m) => m,
        }
    }

    /// True when the capability exists but cannot serve now (no index, no LLM).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, HostError::Unavailable(_))
    }
}

/// What a persona implements: who it is, and how it reviews.
pub trait Persona {
    /// The persona's identity; must match its manifest's id and domain.
    fn describe() -> Info;

    /// Runs one review and returns markdown, or a sentence saying why it
    /// could not be done (the job then fails with that reason).
    fn review(req: Request) -> Result<String, String>;
}

/// Exports a [`Persona`] implementation as the component's entry points.
///
/// Use it once per crate, at the top level: `export_persona!(MyPersona);`
#[macro_export]
macro_rules! export_persona {
    ($persona:ty) => {
        #[doc(hidden)]
        pub struct __AgentOsPersonaExport;

        impl $crate::bindings::Guest for __AgentOsPersonaExport {
            fn describe() -> $crate::Info {
                <$persona as $crate::Persona>::describe()
            }
            fn review(req: $crate::Request) -> ::core::result::Result<::std::string::String, ::std::string::String> {
                <$persona as $crate::Persona>::review(req)
            }
        }

        $crate::bindings::__export_persona_world!(__AgentOsPersonaExport with_types_in $crate::bindings);
    };
}
