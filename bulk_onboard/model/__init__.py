"""The model: what a row is (records), the words users type (words, columns) and what a row
does (steps, plans). Pure data, no I/O."""

from __future__ import annotations

from typing import Any, TypeAlias

Json: TypeAlias = dict[str, Any]  # a JSON object as decoded: the portal's DTOs, step outputs
