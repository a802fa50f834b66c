import BosunProtocol
import LLM
import Testing

@Suite struct JSONSchemaValidatorTests {
    let schema: JSONValue = [
        "type": "object",
        "properties": [
            "state": ["type": "string", "enum": ["completed", "failed"]],
            "confidence": ["type": "number", "minimum": 0, "maximum": 1],
            "tags": ["type": "array", "items": ["type": "string", "minLength": 2], "maxItems": 2],
            "owner": ["$ref": "#/$defs/person"],
            "count": ["type": "integer"],
        ],
        "required": ["state", "confidence"],
        "additionalProperties": false,
        "$defs": ["person": ["type": "object", "properties": ["name": ["type": "string"]], "required": ["name"]]],
    ]

    @Test func aValidDocumentHasNoViolations() {
        let value: JSONValue = ["state": "completed", "confidence": 0.9, "tags": ["ok", "go"], "owner": ["name": "ana"], "count": 3]
        #expect(JSONSchemaValidator(schema: schema).violations(of: value) == [])
    }

    @Test func everyViolationIsNamedWithItsPath() {
        let value: JSONValue = [
            "state": "maybe", "confidence": 2, "tags": ["x", "yy", "zz"], "owner": [:], "count": 1.5, "extra": true,
        ]
        let problems = JSONSchemaValidator(schema: schema).violations(of: value)
        let expected = [
            "$.state: must be one of \"completed\", \"failed\"", "$.confidence: must be <= 1.0",
            "$.tags: allows at most 2 items", "$.tags[0]: must be at least 2 characters",
            "$.owner: missing required property 'name'", "$.count: expected integer, got number",
            "$: unexpected property 'extra'",
        ]
        for message in expected {
            #expect(problems.contains(message), "missing \(message) in \(problems)")
        }
        #expect(JSONSchemaValidator(schema: schema).violations(of: ["confidence": 1]).contains("$: missing required property 'state'"))
        #expect(JSONSchemaValidator(schema: schema).violations(of: "text") == ["$: expected object, got string"])
    }

    @Test func combinatorsAndStructuredAnswers() {
        let either: JSONValue = ["anyOf": [["type": "string"], ["type": "integer"]]]
        #expect(JSONSchemaValidator(schema: either).isValid(3))
        #expect(!JSONSchemaValidator(schema: either).isValid(true))
        let exactlyOne: JSONValue = ["oneOf": [["type": "number"], ["type": "integer"]]]
        #expect(!JSONSchemaValidator(schema: exactlyOne).isValid(3))  // both match
        #expect(JSONSchemaValidator(schema: exactlyOne).isValid(3.5))
        #expect(StructuredAnswer.parse("```json\n{\"a\": 1}\n```") == ["a": 1])
        #expect(StructuredAnswer.parse(" {\"a\": [1, 2]} ") == ["a": [1, 2]])
        #expect(StructuredAnswer.parse("Sure! {\"a\": 1}") == nil)
    }
}
