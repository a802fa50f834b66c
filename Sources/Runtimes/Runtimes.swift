/// The Agno-style and Claude-Code-style runtimes and the LLM gateway client. Empty until the
/// runtimes issue; nothing here claims to run a turn.
public enum Runtimes {}
