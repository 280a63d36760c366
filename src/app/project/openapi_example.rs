//! An example request for a model's `POST /predict`, built from the API's
//! own OpenAPI document (FastAPI's `/openapi.json`): each field's first
//! `examples` entry (or its `example`, `default` or first `enum` value),
//! else a value of its type. The Model tab's "Try it" form starts from it.

use serde_json::{Map, Value};

/// How deep `$ref`s and nested objects are followed.
const MAX_DEPTH: usize = 8;

/// The example body of `POST /predict`, pretty-printed; `None` when the
/// document has no such operation with a JSON body.
pub fn predict_example(spec: &Value) -> Option<String> {
    let body = spec.pointer("/paths/~1predict/post/requestBody/content/application~1json")?;
    let example = match body.get("example") {
        Some(example) => example.clone(),
        None => example_of(spec, body.get("schema")?, 0),
    };
    serde_json::to_string_pretty(&example).ok()
}

fn example_of(spec: &Value, schema: &Value, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    if let Some(target) = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|reference| reference.strip_prefix('#'))
        .and_then(|pointer| spec.pointer(pointer))
    {
        return example_of(spec, target, depth + 1);
    }
    if let Some(example) = schema.get("example") {
        return example.clone();
    }
    for listed in ["examples", "enum"] {
        if let Some(first) = schema
            .get(listed)
            .and_then(Value::as_array)
            .and_then(|all| all.first())
        {
            return first.clone();
        }
    }
    if let Some(default) = schema.get("default") {
        return default.clone();
    }
    for choice in ["allOf", "anyOf", "oneOf"] {
        if let Some(first) = schema
            .get(choice)
            .and_then(Value::as_array)
            .and_then(|all| {
                all.iter()
                    .find(|option| option.get("type") != Some(&"null".into()))
            })
        {
            return example_of(spec, first, depth + 1);
        }
    }
    let kind = schema.get("type").and_then(Value::as_str);
    match kind {
        Some("object") | None if schema.get("properties").is_some() => {
            let mut object = Map::new();
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (name, property) in properties {
                    object.insert(name.clone(), example_of(spec, property, depth + 1));
                }
            }
            Value::Object(object)
        }
        Some("object") => Value::Object(Map::new()),
        Some("array") => match schema.get("items") {
            Some(items) => Value::Array(vec![example_of(spec, items, depth + 1)]),
            None => Value::Array(Vec::new()),
        },
        Some("integer") => 0.into(),
        Some("number") => 0.0.into(),
        Some("boolean") => false.into(),
        Some("string") => "".into(),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The shape FastAPI (Pydantic 2) gives the ML model template's API.
    fn iris() -> Value {
        json!({
            "openapi": "3.1.0",
            "paths": {
                "/predict": {"post": {"requestBody": {"content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Flower"}
                }}, "required": true}}}
            },
            "components": {"schemas": {"Flower": {
                "type": "object",
                "properties": {
                    "sepal_length": {"type": "number", "examples": [5.1]},
                    "petal_width": {"type": "number", "examples": [0.2]},
                    "kind": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                    "count": {"type": "integer", "default": 3},
                    "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}
                }
            }}}
        })
    }

    #[test]
    fn examples_come_from_the_schema() {
        let example: Value = serde_json::from_str(&predict_example(&iris()).unwrap()).unwrap();
        assert_eq!(
            example,
            json!({"sepal_length": 5.1, "petal_width": 0.2, "kind": "", "count": 3, "tags": ["a"]})
        );
    }

    #[test]
    fn a_body_example_wins_and_no_predict_is_none() {
        let spec = json!({"paths": {"/predict": {"post": {"requestBody": {"content": {
            "application/json": {"example": {"text": "great"}, "schema": {"type": "object"}}
        }}}}}});
        assert_eq!(
            serde_json::from_str::<Value>(&predict_example(&spec).unwrap()).unwrap(),
            json!({"text": "great"})
        );
        assert!(predict_example(&json!({"paths": {}})).is_none());
        // A schema that refers to itself stops.
        let looping = json!({
            "paths": {"/predict": {"post": {"requestBody": {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Node"}}}}}}},
            "components": {"schemas": {"Node": {"type": "object", "properties": {
                "next": {"$ref": "#/components/schemas/Node"}}}}}
        });
        assert!(predict_example(&looping).unwrap().contains("null"));
    }
}
