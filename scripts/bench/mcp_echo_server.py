"""An MCP server built with the official `mcp` 2.x SDK: echo, add, a structured tool, an error.
The benchmark (bosun bench mcp) and the MCP peer tests both use it."""
from mcp.server.mcpserver import MCPServer

server = MCPServer("sdk-echo")


@server.tool()
def echo(text: str) -> str:
    """Echoes the text back."""
    return text


@server.tool()
def add(a: int, b: int) -> int:
    """Adds two integers."""
    return a + b


@server.tool()
def fail(message: str) -> str:
    """Always raises, so the result has isError true."""
    raise ValueError(message)


if __name__ == "__main__":
    server.run()
