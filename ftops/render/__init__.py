"""Rendering: Plan and status values → text (Terraform-like), JSON (versioned), Markdown (PR comments)."""
