/// Splits a shell command line into the simple commands it runs, for `Bash(...)` rules.
///
/// Separators are `&&`, `||`, `;`, `|`, `|&`, a background `&`, newlines and subshell
/// parentheses; command substitutions (`$(...)`, backticks, `<(...)`) are commands of their own
/// (the outer command keeps a `$(...)` placeholder). Single quotes, double quotes and backslash
/// escapes are respected, `#` comments dropped, and leading reserved words (`if`, `then`, `do`,
/// `{`, `!`, `time`, ...) removed, so `if true; then rm -rf x; fi` yields `rm -rf x`.
///
/// This is how rules see a command, not a shell parser: a deny rule is a guard rail (`bash -c`,
/// `eval` or a script file hide what runs), and the sandbox is the boundary.
enum ShellCommand {
    static func subcommands(_ command: String) -> [String] {
        enum Quote { case none, single, double }
        struct Frame {
            var closer: Character
            var resumeQuote: Quote
            var outerPiece: String
            /// Substitutions leave a placeholder in the outer command; subshells do not.
            var placeholder: String
        }

        let characters = Array(command)
        var pieces: [String] = []
        var current = ""
        var quote = Quote.none
        var stack: [Frame] = []
        var index = 0

        func finish() {
            pieces.append(current)
            current = ""
        }
        func push(closer: Character, placeholder: String) {
            stack.append(Frame(closer: closer, resumeQuote: quote, outerPiece: current, placeholder: placeholder))
            current = ""
            quote = .none
        }
        func pop() {
            let frame = stack.removeLast()
            finish()
            current = frame.outerPiece + frame.placeholder
            quote = frame.resumeQuote
        }
        func atWordStart() -> Bool { current.last.map { $0 == " " || $0 == "\t" } ?? true }
        func peek(_ offset: Int) -> Character? {
            index + offset < characters.count ? characters[index + offset] : nil
        }

        while index < characters.count {
            let character = characters[index]
            switch quote {
            case .single:
                current.append(character)
                if character == "'" { quote = .none }
                index += 1
                continue
            case .double:
                if character == "\\", let next = peek(1) {
                    current.append(character)
                    current.append(next)
                    index += 2
                } else if character == "\"" {
                    current.append(character)
                    quote = .none
                    index += 1
                } else if character == "$", peek(1) == "(" {
                    push(closer: ")", placeholder: "$(...)")
                    index += 2
                } else if character == "`" {
                    push(closer: "`", placeholder: "$(...)")
                    index += 1
                } else {
                    current.append(character)
                    index += 1
                }
                continue
            case .none:
                break
            }

            switch character {
            case "\\":
                if let next = peek(1) {
                    // A backslash-newline joins lines.
                    if next != "\n" {
                        current.append(character)
                        current.append(next)
                    }
                    index += 2
                } else {
                    current.append(character)
                    index += 1
                }
            case "'":
                quote = .single
                current.append(character)
                index += 1
            case "\"":
                quote = .double
                current.append(character)
                index += 1
            case "#" where atWordStart():
                while index < characters.count, characters[index] != "\n" { index += 1 }
            case ";", "\n":
                finish()
                index += 1
            case "&":
                if peek(1) == "&" {
                    finish()
                    index += 2
                } else if current.last == ">" || current.last == "<" || peek(1) == ">" {
                    // 2>&1, >&2, <&3, &>file: a redirection.
                    current.append(character)
                    index += 1
                } else {
                    finish()
                    index += 1
                }
            case "|":
                if peek(1) == "|" || peek(1) == "&" {
                    finish()
                    index += 2
                } else if current.last == ">" {
                    // >| file: clobbering redirection.
                    current.append(character)
                    index += 1
                } else {
                    finish()
                    index += 1
                }
            case "(":
                if current.last == "$" {
                    current.removeLast()
                    push(closer: ")", placeholder: "$(...)")
                } else if current.last == "<" || current.last == ">" {
                    push(closer: ")", placeholder: "(...)")
                } else {
                    finish()
                    push(closer: ")", placeholder: "")
                }
                index += 1
            case ")":
                if let top = stack.last, top.closer == ")" {
                    pop()
                } else {
                    finish()
                }
                index += 1
            case "`":
                if let top = stack.last, top.closer == "`" {
                    pop()
                } else {
                    push(closer: "`", placeholder: "$(...)")
                }
                index += 1
            default:
                current.append(character)
                index += 1
            }
        }
        // Unclosed quotes or substitutions: whatever was read still counts.
        while !stack.isEmpty { pop() }
        finish()
        return pieces.compactMap(normalised)
    }

    static let leadingKeywords: Set<String> = ["if", "then", "else", "elif", "do", "while", "until", "!", "{", "time"]
    static let closingKeywords: Set<String> = ["fi", "done", "esac", "}"]

    /// Whitespace collapsed, leading reserved words dropped; nil when nothing is left to run.
    static func normalised(_ piece: String) -> String? {
        var words = piece.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
        while let first = words.first, leadingKeywords.contains(first) { words.removeFirst() }
        while let last = words.last, last == "}" { words.removeLast() }
        if words.count == 1, closingKeywords.contains(words[0]) { return nil }
        return words.isEmpty ? nil : words.joined(separator: " ")
    }

    static let wrappers: Set<String> = ["sudo", "env", "command", "builtin", "exec", "nohup", "nice", "time"]

    /// The forms a deny or ask rule is checked against: the command as written, and the command
    /// with leading `VAR=value` assignments, simple wrappers (`sudo`, `env`, `nohup`, ... and
    /// their `-x` flags) and the directory of the program (`/bin/rm`) taken off.
    static func denyForms(of subcommand: String) -> [String] {
        var forms = [subcommand]
        var words = subcommand.split(separator: " ").map(String.init)
        func record() {
            guard !words.isEmpty else { return }
            let form = words.joined(separator: " ")
            if !forms.contains(form) { forms.append(form) }
        }
        var changed = true
        while changed, !words.isEmpty {
            changed = false
            let first = words[0]
            if isAssignment(first) {
                words.removeFirst()
                changed = true
            } else if wrappers.contains(first) {
                words.removeFirst()
                while let flag = words.first, flag.hasPrefix("-") { words.removeFirst() }
                changed = true
            } else if first.contains("/"), let name = first.split(separator: "/").last {
                words[0] = String(name)
                changed = true
            }
            if changed { record() }
        }
        return forms
    }

    private static func isAssignment(_ word: String) -> Bool {
        guard let equals = word.firstIndex(of: "="), equals != word.startIndex else { return false }
        return word[..<equals].allSatisfy { $0 == "_" || $0.isLetter || $0.isNumber } && !word[word.startIndex].isNumber
    }
}
