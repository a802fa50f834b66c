import Foundation
import Testing

@testable import WorkerCore

@Suite struct WorkerConfigurationTests {
    let key = "bsk_" + String(repeating: "a", count: 43)
    let queue = "2f0b1a9e-8c1d-4a57-9d2b-0c3e4f5a6b7c"
    var required: [String: String] {
        ["BOSUN_CONTROL_URL": "http://127.0.0.1:8080", "BOSUN_API_KEY": key, "BOSUN_QUEUE_ID": queue]
    }

    func file(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("worker-\(UUID().uuidString).toml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func flagsBeatTheEnvironmentWhichBeatsTheFile() throws {
        let path = try file(
            """
            # a worker for the A100 hosts
            control_url = "http://file:1"
            slots = 2
            work_dir = '/srv/bosun'
            drain_timeout_s = 90.5
            event_flush_interval_s = 0.25
            once = false

            [labels]
            gpu = "a100"
            "zone.name" = "eu-1"
            """)
        let configuration = try WorkerConfiguration.load(
            flags: ["--slots": "8"], environment: required.merging(["BOSUN_WORKER_SLOTS": "4"]) { $1 }, configFile: path)
        #expect(configuration.slots == 8)
        #expect(configuration.controlURL.absoluteString == "http://127.0.0.1:8080")
        #expect(configuration.workDirectory == "/srv/bosun")
        #expect(configuration.drainTimeout == .milliseconds(90_500))
        #expect(configuration.eventFlushInterval == .milliseconds(250))
        #expect(configuration.labels == ["gpu": "a100", "zone.name": "eu-1"])
        let fromEnvironment = try WorkerConfiguration.load(
            flags: [:], environment: required.merging(["BOSUN_WORKER_SLOTS": "4"]) { $1 }, configFile: path)
        #expect(fromEnvironment.slots == 4)
        let fromFile = try WorkerConfiguration.load(flags: [:], environment: required, configFile: path)
        #expect(fromFile.slots == 2)
    }

    @Test func llmSettingsComeFromTheEnvironmentOrTheFile() throws {
        let path = try file(
            """
            llm_base_url = "http://gateway:4000"
            llm_timeout_s = 30
            llm_max_retries = 1
            """)
        let configuration = try WorkerConfiguration.load(
            flags: [:], environment: required.merging(["BOSUN_LLM_API_KEY": "sk-test"]) { $1 }, configFile: path)
        #expect(configuration.llmBaseURL == "http://gateway:4000")
        #expect(configuration.llmAPIKey == "sk-test")
        #expect(configuration.llmTimeout == .seconds(30))
        #expect(configuration.llmMaxRetries == 1)
    }

    @Test func secretsComeFromTheSettingOrSystemdCredentials() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("secrets-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let credentials = try WorkerConfiguration.load(
            flags: [:], environment: required.merging(["CREDENTIALS_DIRECTORY": directory]) { $1 })
        #expect(credentials.secretsDirectory == directory)
        let flag = try WorkerConfiguration.load(
            flags: ["--secrets-dir": directory], environment: required.merging(["CREDENTIALS_DIRECTORY": "/nonexistent"]) { $1 })
        #expect(flag.secretsDirectory == directory)
        #expect(try WorkerConfiguration.load(flags: [:], environment: required).secretsDirectory == nil)
        #expect {
            try WorkerConfiguration.load(flags: [:], environment: required.merging(["BOSUN_SECRETS_DIR": "/nonexistent/secrets"]) { $1 })
        } throws: { error in
            "\(error)".contains("BOSUN_SECRETS_DIR") && "\(error)".contains("/nonexistent/secrets")
        }
        #expect {
            try WorkerConfiguration.load(flags: ["--secrets-dir": "relative/dir"], environment: required)
        } throws: { "\($0)".contains("--secrets-dir must be an absolute path") }
    }

    @Test func everySettingHasAFlagAVariableAndAFileKeyThatAreUnique() {
        let all = WorkerSetting.all
        #expect(Set(all.map(\.flag)).count == all.count)
        #expect(Set(all.map(\.environment)).count == all.count)
        #expect(Set(all.map(\.toml)).count == all.count)
        #expect(all.allSatisfy { $0.flag.hasPrefix("--") && $0.environment.hasPrefix("BOSUN_") })
    }

    @Test(arguments: [
        (["BOSUN_WORKER_SLOTS": "many"], "BOSUN_WORKER_SLOTS"),
        (["BOSUN_WORKER_SLOTS": "0"], "BOSUN_WORKER_SLOTS"),
        (["BOSUN_CONTROL_URL": "ftp://x"], "BOSUN_CONTROL_URL"),
        (["BOSUN_API_KEY": "secret"], "BOSUN_API_KEY"),
        (["BOSUN_QUEUE_ID": "default"], "BOSUN_QUEUE_ID"),
        (["BOSUN_LOG_LEVEL": "loud"], "BOSUN_LOG_LEVEL"),
        (["BOSUN_WORKER_DRAIN_TIMEOUT_S": "-1"], "BOSUN_WORKER_DRAIN_TIMEOUT_S"),
        (["BOSUN_WORKER_EVENT_FLUSH_INTERVAL_S": "0"], "BOSUN_WORKER_EVENT_FLUSH_INTERVAL_S"),
        (["BOSUN_WORKER_EVENT_FLUSH_INTERVAL_S": "0.001"], "BOSUN_WORKER_EVENT_FLUSH_INTERVAL_S"),
        (["BOSUN_WORKER_EVENT_FLUSH_INTERVAL_S": "120"], "BOSUN_WORKER_EVENT_FLUSH_INTERVAL_S"),
        (["BOSUN_WORKER_LABELS": "gpu"], "BOSUN_WORKER_LABELS"),
        (["BOSUN_WORKER_WORK_DIR": "relative/dir"], "BOSUN_WORKER_WORK_DIR"),
        (["BOSUN_LLM_BASE_URL": "localhost:4000"], "BOSUN_LLM_BASE_URL"),
        (["BOSUN_LLM_PRICING_FILE": "/nonexistent/pricing.json"], "BOSUN_LLM_PRICING_FILE"),
        (["BOSUN_LLM_TIMEOUT_S": "0"], "BOSUN_LLM_TIMEOUT_S"),
        (["BOSUN_LLM_MAX_RETRIES": "lots"], "BOSUN_LLM_MAX_RETRIES"),
    ])
    func aBadValueNamesItsSetting(override: [String: String], setting: String) {
        do {
            _ = try WorkerConfiguration.load(flags: [:], environment: required.merging(override) { $1 })
            Issue.record("\(override) was accepted")
        } catch {
            #expect("\(error)".contains(setting))
        }
    }

    @Test func aMissingRequiredSettingSaysHowToSetIt() {
        do {
            _ = try WorkerConfiguration.load(flags: [:], environment: ["BOSUN_API_KEY": key, "BOSUN_QUEUE_ID": queue])
            Issue.record("loaded without a control URL")
        } catch {
            #expect("\(error)".contains("BOSUN_CONTROL_URL is not set"))
            #expect("\(error)".contains("--control-url"))
        }
    }

    @Test func fileErrorsNameTheFileTheLineAndTheKey() throws {
        let unknown = try file("slots = 2\nslotz = 3\n")
        #expect(throws: ConfigurationError.self) {
            try WorkerConfiguration.load(flags: [:], environment: required, configFile: unknown)
        }
        do {
            _ = try WorkerConfiguration.load(flags: [:], environment: required, configFile: unknown)
        } catch {
            #expect("\(error)".contains("unknown setting 'slotz'"))
        }
        let broken = try file("slots = 2\nname = \"unterminated\n")
        do {
            _ = try WorkerConfiguration.load(flags: [:], environment: required, configFile: broken)
            Issue.record("a broken file was accepted")
        } catch {
            #expect("\(error)".contains(broken))
            #expect("\(error)".contains("line 2"))
        }
        let wrongType = try file("slots = \"two\"\n")
        do {
            _ = try WorkerConfiguration.load(flags: [:], environment: required, configFile: wrongType)
            Issue.record("slots = \"two\" was accepted")
        } catch {
            #expect("\(error)".contains("slots in \(wrongType)"))
        }
    }
}

@Suite struct TOMLDocumentTests {
    @Test func readsTheTOMLThatConfigFilesUse() throws {
        let document = try TOMLDocument(
            parsing: """
                title = "Bosun" # trailing comment
                literal = 'C:\\path'
                escaped = "tab\\tquote\\" \\u00e9"
                hex = 0xff
                big = 1_000
                negative = -7
                float = 6.5e-1
                yes = true
                list = [1, 2,
                  3, ] # multi-line, trailing comma
                inline = { a = 1, b.c = "d" }
                multi = \"\"\"
                two
                lines\"\"\"

                [server.limits]
                max = 3
                """)
        #expect(document.value(at: "title") == .string("Bosun"))
        #expect(document.value(at: "literal") == .string("C:\\path"))
        #expect(document.value(at: "escaped") == .string("tab\tquote\" é"))
        #expect(document.value(at: "hex") == .integer(255))
        #expect(document.value(at: "big") == .integer(1000))
        #expect(document.value(at: "negative") == .integer(-7))
        #expect(document.value(at: "float") == .float(0.65))
        #expect(document.value(at: "yes") == .boolean(true))
        #expect(document.value(at: "list") == .array([.integer(1), .integer(2), .integer(3)]))
        #expect(document.value(at: "inline.b.c") == .string("d"))
        #expect(document.value(at: "multi") == .string("two\nlines"))
        #expect(document.value(at: "server.limits.max") == .integer(3))
    }

    @Test(arguments: [
        "a = ", "a = 1\na = 2", "[t]\n[t]", "a = \"open", "a = 1 2", "[[items]]", "a = 2026-11-26", "a = nope",
        "a = [1, 2", "= 1",
    ])
    func refusesWhatItCannotReadWithALineNumber(text: String) {
        #expect(throws: TOMLError.self) { try TOMLDocument(parsing: text) }
    }
}
