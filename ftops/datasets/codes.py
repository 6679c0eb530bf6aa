"""The catalogue of dataset problem codes: a short title and the fix, one entry per code.

Codes are stable (tests, docs and users' CI scripts depend on them); add new ones, never renumber.
``E1xx`` bytes/JSON/format, ``E2xx`` conversation, ``E3xx`` message, ``E4xx`` tools and tool calls,
``E5xx`` pretrain rows, ``E6xx`` classifier rows, ``W...`` warnings that do not reject the line.
``docs/dataset-errors.md`` is generated from the same facts and a test keeps the two in step.
"""

from __future__ import annotations

from typing import NamedTuple


class Code(NamedTuple):
    title: str
    fix: str


CODES: dict[str, Code] = {
    # --- E1xx: bytes, JSON, file format
    "E101": Code("invalid UTF-8", "re-encode the file as UTF-8"),
    "E102": Code("invalid JSON", "each line must be one complete JSON object; check quotes and brackets"),
    "E103": Code("blank line", "remove empty lines (`ftops data fix` does)"),
    "E104": Code("NaN or Infinity literal", "replace NaN/Infinity with null or a number; they are not JSON"),
    "E105": Code("line is not a JSON object", "wrap the row in an object such as {\"messages\": [...]}"),
    "E106": Code("JSON nested too deeply", "flatten the row; no real training row nests this deep"),
    "E107": Code("line too long", "split the row; a single row over 64 MiB cannot be a training sample"),
    "E108": Code("UTF-8 byte order mark", "save the file without a BOM (`ftops data fix` strips it)"),
    "E110": Code("row of another data kind", "keep one kind of row per file (chat, pretrain or classifier)"),
    "E120": Code("row could not be tokenized", "check the text for lone surrogates or other odd characters"),
    # --- E2xx: conversation
    "E201": Code("no messages", "add a \"messages\" list (or \"interactions\")"),
    "E202": Code("both messages and interactions", "keep only one of \"messages\" / \"interactions\""),
    "E203": Code("messages is not a list", "\"messages\" must be a list of message objects"),
    "E204": Code("both tools and available_tools", "keep only one of \"tools\" / \"available_tools\""),
    "E205": Code("empty conversation", "a row needs at least one user and one assistant message"),
    "E206": Code("single message is not a user message", "start the conversation with a user message"),
    "E207": Code("last message is not an assistant message",
                 "end each row with the assistant answer to train on (`ftops data fix` drops trailing turns)"),
    "E208": Code("role order not allowed", "a tool result must be followed by an assistant or another tool result"),
    "E209": Code("tool calls and tool results do not match up",
                 "answer every tool call with one tool message before the next assistant message"),
    "E210": Code("more than one system message", "merge the system messages into one"),
    "E211": Code("system_prompt is not a string", "set the top-level system_prompt to a string"),
    # --- E3xx: message
    "E301": Code("message is not an object", "each message must be an object with role and content"),
    "E302": Code("message has no role", "add \"role\": one of system, user, assistant, tool"),
    "E303": Code("unknown role", "use one of system, user, assistant, tool (`ftops data fix` maps function→tool)"),
    "E304": Code("both text and content", "keep only \"content\" (\"text\" is an alias)"),
    "E305": Code("message has no content", "add \"content\" (an empty string is allowed for user turns)"),
    "E306": Code("content has the wrong type", "content must be a string (user content may be a chunk list)"),
    "E307": Code("invalid content chunk", "chunks are {type: text, text} or {type: image_url, image_url}"),
    "E308": Code("assistant needs content or tool_calls, not both and not neither",
                 "give the assistant turn either non-empty content or tool_calls"),
    "E309": Code("assistant weight not 0 or 1", "set weight to 0 (do not train) or 1 (train), or drop it"),
    "E311": Code("tool message has no tool_call_id", "add the id of the tool call this message answers"),
    # --- E4xx: tools and tool calls
    "E401": Code("tools is not a list", "\"tools\" must be a list of {type: function, function: {...}}"),
    "E402": Code("tool has no function object", "each tool needs a \"function\" object"),
    "E403": Code("function lacks name, description or parameters",
                 "add the missing key (`ftops data fix` adds an empty description)"),
    "E404": Code("function parameters is not an object", "use a JSON Schema object; {} for no parameters"),
    "E405": Code("function parameters is not a valid JSON Schema", "fix the schema (Draft 7)"),
    "E406": Code("invalid function name", "names match ^[a-zA-Z0-9_-]{1,64}$"),
    "E407": Code("function name or description is not a string", "use strings"),
    "E410": Code("tool_calls is not a list of objects", "tool_calls must be a list of {id, function}"),
    "E411": Code("tool call lacks id or function", "add \"id\" and \"function\" to every tool call"),
    "E412": Code("tool call function lacks name or arguments", "add \"name\" and \"arguments\""),
    "E413": Code("tool call arguments is not a string",
                 "JSON-encode the arguments into a string (`ftops data fix` does)"),
    "E414": Code("invalid tool call id", "ids are exactly 9 letters or digits (`ftops data fix` rewrites them)"),
    "E415": Code("tool call id \"null\" before the last message", "give earlier tool calls a real 9-char id"),
    "E417": Code("invalid tool_call_id", "tool_call_id is exactly 9 letters or digits, matching the call's id"),
    "E418": Code("invalid tool message name", "names match ^[a-zA-Z0-9_-]{1,64}$"),
    # --- E5xx: pretrain
    "E501": Code("pretrain row has no text", "add \"text\" (or \"content\")"),
    "E502": Code("pretrain row has both text and content", "keep only one of them"),
    "E503": Code("pretrain text is not a string", "use a string"),
    # --- E6xx: classifier
    "E601": Code("classifier row has no labels", "add \"labels\": {target: label}"),
    "E602": Code("labels is not a non-empty object", "labels maps each target name to a label"),
    "E603": Code("invalid label value", "a label is a non-empty string, or a non-empty list of strings"),
    "E604": Code("classifier row has no text or messages", "add \"text\" or \"messages\""),
    "E605": Code("classifier row has both text and messages", "keep only one of them"),
    "E606": Code("classifier text is not a string", "use a non-empty string"),
    "E607": Code("invalid classifier messages", "messages is a non-empty list of {role, content: string}"),
    # --- warnings
    "W301": Code("no message carries loss", "this row trains nothing: set weight 1 on an assistant message"),
    "W302": Code("image chunk with a text-only model", "use pixtral-12b-latest for images, or drop them"),
    "W401": Code("call to a tool not defined in tools", "the API wants every called tool listed in \"tools\""),
    "W402": Code("tool_call_id matches no earlier call id", "the API wants each result to answer a call by id"),
    "W601": Code("label type differs from earlier rows", "use either single labels or lists per target"),
}


def title(code: str) -> str:
    entry = CODES.get(code)
    return entry.title if entry else code


def fix_hint(code: str) -> str:
    entry = CODES.get(code)
    return entry.fix if entry else ""
