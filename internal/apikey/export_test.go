package apikey

// Exported for the black-box tests: forging a key with a valid checksum,
// and the one refusal every bad key gets.
var (
	Checksum   = checksum
	ErrRefused = errRefused
)

// CRCLen is the checksum's length.
const CRCLen = crcLen
