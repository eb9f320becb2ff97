"""Adapters that plug the cost model into other tools (TVM MetaSchedule)."""
