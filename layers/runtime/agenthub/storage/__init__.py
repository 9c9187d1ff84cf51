"""Object storage for tenant files (knowledge documents, chat attachments)."""
