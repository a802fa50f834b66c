import Testing

@testable import LLM

@Suite struct LLMGatewayConfigurationTests {
    @Test(arguments: [
        "http://127.0.0.1:4000", "http://127.0.0.1:4000/", "http://127.0.0.1:4000/v1", "http://127.0.0.1:4000/v1/",
        " http://127.0.0.1:4000// ",
    ])
    func endpointsAppendToTheBaseURL(base: String) {
        let configuration = LLMGatewayConfiguration(baseURL: base)
        #expect(configuration.url(for: OpenAIChatWire.path) == "http://127.0.0.1:4000/v1/chat/completions")
        #expect(configuration.url(for: AnthropicMessagesWire.path) == "http://127.0.0.1:4000/v1/messages")
    }

    @Test func defaults() {
        let configuration = LLMGatewayConfiguration()
        #expect(configuration.requestTimeout == .seconds(120))
        #expect(configuration.maxRetries == 3)
        #expect(configuration.retryBaseDelay == .milliseconds(500))
        #expect(configuration.retryMaxDelay == .seconds(20))
        #expect(configuration.fallbacks.isEmpty)
    }

    @Test func descriptionLeavesTheKeyOut() {
        let configuration = LLMGatewayConfiguration(apiKey: "sk-very-secret")
        #expect(!"\(configuration)".contains("sk-very-secret"))
    }
}
