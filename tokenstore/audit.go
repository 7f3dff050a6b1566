package tokenstore

import (
	"encoding/binary"
	"encoding/json"
	"time"
)

// AuditEvent records one change: who made it, from where, what and when.
// It never holds a secret.
type AuditEvent struct {
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`
	Remote string    `json:"remote_addr,omitempty"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Detail string    `json:"detail,omitempty"`
}

// audit appends an event in the same transaction as the change it
// describes, so the log and the data never disagree.
func (w *writeTx) audit(action, target, detail string) error {
	seq, err := w.NextSequence(bucketAudit)
	if err != nil {
		return err
	}
	ev := AuditEvent{Seq: seq, Time: w.s.now().UTC(), Actor: w.actor.Name, Remote: w.actor.Remote,
		Action: action, Target: target, Detail: detail}
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return putJSON(w, bucketAudit, k[:], ev)
}

// Audit returns up to limit events with a sequence number above after,
// oldest first.
func (s *Store) Audit(after uint64, limit int) ([]AuditEvent, error) {
	var out []AuditEvent
	err := s.be.View(func(tx Tx) error {
		return tx.ForEach(bucketAudit, nil, func(k, v []byte) error {
			if binary.BigEndian.Uint64(k) <= after {
				return nil
			}
			if len(out) >= limit {
				return errStop
			}
			var ev AuditEvent
			if err := json.Unmarshal(v, &ev); err != nil {
				return ErrCorrupt
			}
			out = append(out, ev)
			return nil
		})
	})
	return out, err
}
