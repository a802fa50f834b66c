import Testing

@testable import LLM

@Suite struct ServerSentEventParserTests {
    static let body =
        ": keep-alive comment\r\n"
        + "event: message_start\r\ndata: {\"a\":1}\r\n\r\n"
        + "data: first line\ndata:second line\n\n"
        + "event: ping\nid: 7\nretry: 100\ndata: {\"é\":\"ü✓\"}\n\n"
        + "event: empty\n\n"
        + "data: [DONE]\n\n"

    static let expected = [
        ServerSentEvent(event: "message_start", data: #"{"a":1}"#),
        ServerSentEvent(event: nil, data: "first line\nsecond line"),
        ServerSentEvent(event: "ping", data: #"{"é":"ü✓"}"#),
        ServerSentEvent(event: nil, data: "[DONE]"),
    ]

    @Test(arguments: [[1], [2], [3], [5, 1], [17], [1000]])
    func chunksSplitAnywhereGiveTheSameEvents(sizes: [Int]) {
        #expect(parseEvents(Self.body, chunkSizes: sizes) == Self.expected)
    }

    @Test func crLineEndsAndACRLFSplitAcrossChunks() {
        var parser = ServerSentEventParser()
        #expect(parser.feed(Array("data: one\r".utf8)).isEmpty)
        // The `\n` of the `\r\n` pair arrives in the next chunk: it must not end a second line.
        #expect(parser.feed(Array("\n\r\ndata: two\r\r".utf8)) == [ServerSentEvent(data: "one"), ServerSentEvent(data: "two")])
    }

    @Test func lastEventWithoutBlankLineIsDeliveredAtTheEnd() {
        var parser = ServerSentEventParser()
        #expect(parser.feed(Array("data: [DONE]".utf8)).isEmpty)
        #expect(parser.finish() == ServerSentEvent(data: "[DONE]"))
        #expect(parser.finish() == nil)
    }

    @Test func fieldWithoutColonAndValueWithoutSpace() {
        var parser = ServerSentEventParser()
        #expect(parser.feed(Array("data\ndata:x\n\n".utf8)) == [ServerSentEvent(data: "\nx")])
    }
}
