//! The agent's model side: a provider-neutral chat with tools (`chat`),
//! the providers' real wire protocols over reqwest (`openai` for every
//! OpenAI-compatible endpoint, `anthropic`), the text protocol for models
//! without tool calling (`text_protocol`), and `provider:model` names.
//! The tool loop, jobs and events build on these.

pub mod anthropic;
pub mod chat;
pub mod model;
pub mod openai;
pub mod provider;
pub mod scripted;
pub mod sse;
pub mod text_protocol;
pub mod tools;
pub mod turn;
