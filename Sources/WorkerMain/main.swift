import ArgumentParser
import BosunLogging
import Foundation
import LLM
import Logging
import Runtimes
import Sandbox
import WorkerCore

/// `bosun-worker`: the agent execution daemon. Parses settings and hands them to WorkerCore.
@main
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bosun-worker",
        abstract: "Bosun's worker daemon: registers with the control API, long-polls its queue and runs agent turns.",
        discussion: """
            Settings come from flags, then BOSUN_* environment variables, then a TOML file (--config).
            Under systemd it speaks sd_notify (READY, STATUS, WATCHDOG, STOPPING). SIGTERM drains: no new
            tasks, running tasks finish within the drain timeout. A second SIGTERM or SIGINT stops running
            tasks and releases them to other workers.
            """,
        subcommands: [Run.self, SandboxCommands.self, Version.self],
        defaultSubcommand: Run.self)
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Register and work the queue until stopped.",
        discussion: """
            Required: the control API URL, a worker API key (scope 'worker') and the queue id, e.g.
              BOSUN_CONTROL_URL=http://127.0.0.1:8080 BOSUN_API_KEY=bsk_... BOSUN_QUEUE_ID=<uuid> bosun-worker run
            A TOML file may hold the same settings by their TOML names (control_url, api_key, queue_id, slots,
            work_dir, name, log_level, log_format, drain_timeout_s, kill_grace_s, once, test_runtime, llm_base_url,
            llm_api_key, llm_pricing_file, llm_timeout_s, llm_max_retries, secrets_dir, [labels]).
            """)

    @Option(help: "TOML configuration file.")
    var config: String?
    @Option(name: .customLong("control-url"), help: "Control API base URL (BOSUN_CONTROL_URL).")
    var controlURL: String?
    @Option(name: .customLong("api-key"), help: "Worker API key, bsk_... (BOSUN_API_KEY; prefer the environment).")
    var apiKey: String?
    @Option(name: .customLong("queue-id"), help: "Queue this worker serves (BOSUN_QUEUE_ID).")
    var queueId: String?
    @Option(help: "Tasks run at once (BOSUN_WORKER_SLOTS, default 1).")
    var slots: String?
    @Option(name: .customLong("label"), help: "A label key=value; repeatable (BOSUN_WORKER_LABELS=k=v,k2=v2).")
    var labels: [String] = []
    @Option(name: .customLong("work-dir"), help: "Directory for task workspaces (BOSUN_WORKER_WORK_DIR).")
    var workDir: String?
    @Option(help: "Name reported to the control API; defaults to the hostname (BOSUN_WORKER_NAME).")
    var name: String?
    @Option(name: .customLong("log-level"), help: "trace|debug|info|notice|warning|error|critical (BOSUN_LOG_LEVEL).")
    var logLevel: String?
    @Option(name: .customLong("log-format"), help: "json|text (BOSUN_LOG_FORMAT, default json).")
    var logFormat: String?
    @Option(name: .customLong("drain-timeout"), help: "Seconds a drain waits for running tasks (BOSUN_WORKER_DRAIN_TIMEOUT_S, default 300).")
    var drainTimeout: String?
    @Option(name: .customLong("kill-grace"), help: "Seconds between SIGTERM and SIGKILL for task processes (default 5).")
    var killGrace: String?
    @Option(
        name: .customLong("event-flush-interval"),
        help: "Seconds between sends of a running turn's events (BOSUN_WORKER_EVENT_FLUSH_INTERVAL_S, default 0.1).")
    var eventFlushInterval: String?
    @Option(name: .customLong("llm-base-url"), help: "LLM gateway URL; overrides the control API's (BOSUN_LLM_BASE_URL).")
    var llmBaseURL: String?
    @Option(name: .customLong("llm-api-key"), help: "LLM gateway key (BOSUN_LLM_API_KEY; prefer the environment).")
    var llmAPIKey: String?
    @Option(name: .customLong("llm-pricing"), help: "JSON pricing table, USD per million tokens per model (BOSUN_LLM_PRICING_FILE).")
    var llmPricing: String?
    @Option(name: .customLong("llm-timeout"), help: "Seconds per LLM request (BOSUN_LLM_TIMEOUT_S, default 120).")
    var llmTimeout: String?
    @Option(name: .customLong("llm-max-retries"), help: "Retries per LLM request before fallback models (BOSUN_LLM_MAX_RETRIES, default 3).")
    var llmMaxRetries: String?
    @Option(
        name: .customLong("secrets-dir"),
        help: "Directory of secret files for {{secret.NAME}} in MCP server configs (BOSUN_SECRETS_DIR; default $CREDENTIALS_DIRECTORY).")
    var secretsDir: String?
    @Flag(help: "Take one task, run it, deregister and exit.")
    var once = false
    @Flag(
        name: .customLong("test-runtime"),
        help: "Run every turn with the test runtime (tests only; it calls no model and starts no tools).")
    var testRuntime = false

    var flags: [String: String] {
        var flags: [String: String] = [:]
        flags[WorkerSetting.controlURL.flag] = controlURL
        flags[WorkerSetting.apiKey.flag] = apiKey
        flags[WorkerSetting.queueId.flag] = queueId
        flags[WorkerSetting.slots.flag] = slots
        if !labels.isEmpty { flags[WorkerSetting.labels.flag] = labels.joined(separator: ",") }
        flags[WorkerSetting.workDirectory.flag] = workDir
        flags[WorkerSetting.name.flag] = name
        flags[WorkerSetting.logLevel.flag] = logLevel
        flags[WorkerSetting.logFormat.flag] = logFormat
        flags[WorkerSetting.drainTimeout.flag] = drainTimeout
        flags[WorkerSetting.killGrace.flag] = killGrace
        flags[WorkerSetting.eventFlushInterval.flag] = eventFlushInterval
        flags[WorkerSetting.llmBaseURL.flag] = llmBaseURL
        flags[WorkerSetting.llmAPIKey.flag] = llmAPIKey
        flags[WorkerSetting.llmPricingFile.flag] = llmPricing
        flags[WorkerSetting.llmTimeout.flag] = llmTimeout
        flags[WorkerSetting.llmMaxRetries.flag] = llmMaxRetries
        flags[WorkerSetting.secretsDirectory.flag] = secretsDir
        if once { flags[WorkerSetting.once.flag] = "true" }
        if testRuntime { flags[WorkerSetting.testRuntime.flag] = "true" }
        return flags
    }

    func run() async throws {
        let configuration: WorkerConfiguration
        do {
            configuration = try WorkerConfiguration.load(
                flags: flags, environment: ProcessInfo.processInfo.environment, configFile: config)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("bosun-worker: configuration error: \(error)\n".utf8))
            throw ExitCode(78)  // EX_CONFIG: systemd and scripts can tell a config mistake from a crash
        }
        let ring = LogRing(capacity: 500)
        BosunLogging.bootstrap(level: configuration.logLevel, format: configuration.logFormat, ring: ring)
        let logger = Logger(label: "bosun-worker")
        let pricing: PricingTable
        do {
            pricing = try configuration.llmPricingFile.map { try PricingTable.load(path: $0) } ?? PricingTable()
        } catch {
            FileHandle.standardError.write(Data("bosun-worker: configuration error: \(error)\n".utf8))
            throw ExitCode(78)
        }
        // Its own client: a short connect timeout, so a gateway that is down fails an attempt
        // in seconds and the retries and fallbacks get their turn.
        let llmClient = LLMGateway.makeHTTPClient(connectTimeout: .seconds(3))
        let access = LLMAccess(
            httpClient: llmClient, apiKey: configuration.llmAPIKey, baseURLOverride: configuration.llmBaseURL,
            pricing: pricing, requestTimeout: configuration.llmTimeout, maxRetries: configuration.llmMaxRetries)
        let runtimes: [any Runtime]
        if configuration.testRuntime {
            runtimes = [TestRuntime()]
            logger.warning("running every turn with the TEST runtime (no model is called); for tests only")
        } else {
            runtimes = [AgnoRuntime(llm: access), ClaudeCodeRuntime(llm: access)]
        }
        let daemon = WorkerDaemon(
            configuration: configuration, runtimes: runtimes,
            sandbox: configuration.testRuntime ? nil : SandboxInstallation.locate(), ring: ring, logger: logger)
        ShutdownSignals.install { name in daemon.requestStop(reason: name) }
        let outcome: Result<Void, any Error>
        do {
            try await daemon.run()
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        try? await llmClient.shutdown()
        do {
            try outcome.get()
        } catch let error as WorkerFatalError {
            logger.critical("\(error.description)")
            FileHandle.standardError.write(Data("bosun-worker: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// `bosun-worker sandbox check | run`: what this host's sandbox can do, and trying a command
/// under a profile exactly as a tool process would run.
struct SandboxCommands: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox", abstract: "Inspect the tool sandbox or run a command in it.",
        subcommands: [Check.self, RunInSandbox.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Report which sandbox layers work on this host (seccomp, no_new_privs, network namespace, Landlock, cgroup v2).")
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let installation = SandboxInstallation.locate()
            let layers = try SandboxLayers.check(helper: installation.helper)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                print(String(decoding: try encoder.encode(layers), as: UTF8.self))
            } else {
                print("helper:   \(installation.helper)")
                print("profiles: \(installation.profilesDirectory)")
                for line in layers.summary { print(line) }
            }
            guard layers.seccomp, layers.noNewPrivs else { throw ExitCode(1) }
        }
    }

    struct RunInSandbox: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Run COMMAND under a sandbox profile; its output and exit status pass through.",
            discussion: "Example: bosun-worker sandbox run --profile strict -- python3 -c 'import socket; socket.socket()'")
        @Option(help: "Profile name (a file NAME.json in the profiles directory).") var profile = "default"
        @Option(help: "Working directory, also $WORKSPACE in the profile's writable paths (default: the current one).")
        var workspace: String?
        @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.") var command: [String] = []

        func run() throws {
            guard !command.isEmpty else { throw ValidationError("give the command after --") }
            let installation = SandboxInstallation.locate()
            let compiled: CompiledProfile
            do {
                compiled = try installation.compile(profile: profile)
            } catch {
                FileHandle.standardError.write(Data("bosun-worker: \(error)\n".utf8))
                throw ExitCode(78)
            }
            if compiled.program == nil {
                FileHandle.standardError.write(Data("bosun-worker: WARNING: profile '\(profile)' has no syscall filter (limits only)\n".utf8))
            }
            let sandbox = SandboxCommand(
                helper: installation.helper, compiled: compiled,
                workspace: workspace ?? FileManager.default.currentDirectoryPath, command: command)
            let process = try sandbox.spawn(environment: ProcessInfo.processInfo.environment)
            switch process.wait() {
            case .exited(let code): throw ExitCode(code)
            case .signaled(let signal): throw ExitCode(128 + signal)
            }
        }
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the worker's version.")
    func run() { print(WorkerVersion.current) }
}
