"""The campaign engine: YAML schema, planner, writer, outbox dispatcher, follow-ups, scheduler, reports."""
