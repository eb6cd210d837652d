package apikey

import (
	"time"

	"github.com/google/uuid"
)

// Key is an API key as its organization's administrators see it: never its
// secret.
type Key struct {
	ID          uuid.UUID
	OrgID       uuid.UUID
	Name        string
	Prefix      string
	Permissions []string
	CreatedByID uuid.UUID
	CreatedAt   time.Time
	ExpiresAt   *time.Time
	LastUsedAt  *time.Time
	RevokedAt   *time.Time
}

// Created is a new key with its secret, shown once.
type Created struct {
	APIKey *Key
	Secret string
}

// CreateInput is what createApiKey takes.
type CreateInput struct {
	Name        string
	Permissions []string
	ExpiresAt   *time.Time
}
