/// Bosun's MCP client over stdio. Empty until the MCP and sandbox issue.
public enum MCP {}
