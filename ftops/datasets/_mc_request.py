"""Build a mistral-common ``InstructRequest`` from a valid raw row (for tokenizers whose layout we do not
rebuild by hand, such as v7). Only imported when such a tokenizer is in use; image chunks are left out
because encoding them would fetch URLs.
"""

from __future__ import annotations

from typing import Any

from ftops.datasets.rules_instruct import messages_of, tools_of


def build_request(row: dict[str, Any]) -> Any:
    from mistral_common.protocol.instruct.messages import (
        FinetuningAssistantMessage,
        ToolMessage,
        UserMessage,
    )
    from mistral_common.protocol.instruct.request import InstructRequest
    from mistral_common.protocol.instruct.tool_calls import Function, FunctionCall, Tool, ToolCall

    system = row.get("system_prompt")
    messages: list[Any] = []
    msgs = messages_of(row)
    non_system = [m for m in msgs if m.get("role") != "system"]
    for m in msgs:
        role = m.get("role")
        content = m.get("content", m.get("text"))
        if isinstance(content, list):
            content = [c for c in content if c.get("type") == "text"]
        if role == "system":
            system = content
        elif role == "user":
            messages.append(UserMessage(content=content))
        elif role == "tool":
            messages.append(ToolMessage(content=content, tool_call_id=m.get("tool_call_id")))
        else:
            is_last = m is non_system[-1]
            calls = [
                ToolCall(id="null" if is_last else c["id"],
                         function=FunctionCall(name=c["function"]["name"], arguments=c["function"]["arguments"]))
                for c in m.get("tool_calls") or []
            ]
            messages.append(FinetuningAssistantMessage(content=content or None, tool_calls=calls or None))
    chosen = tools_of(row)
    tools = None
    if chosen is not None:
        tools = [Tool(function=Function(name=t["function"]["name"], description=t["function"]["description"],
                                        parameters=t["function"]["parameters"])) for t in chosen[1]]
    return InstructRequest(messages=messages, system_prompt=system, available_tools=tools)
