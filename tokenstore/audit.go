package tokenstore

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
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

// Record appends an event for a change made outside the store (a
// package file uploaded, removed or labelled), so the audit log covers
// the storage too.
func (s *Store) Record(actor Actor, action, target, detail string) error {
	return s.write(actor, func(w *writeTx) error { return w.audit(action, target, detail) })
}

// Audit returns up to limit events with a sequence number above after,
// oldest first. It seeks to after, so paging through a long log costs
// each page only its own events.
func (s *Store) Audit(after uint64, limit int) ([]AuditEvent, error) {
	if limit <= 0 || after == math.MaxUint64 {
		return nil, nil
	}
	var start [8]byte
	binary.BigEndian.PutUint64(start[:], after+1)
	var out []AuditEvent
	err := s.be.View(func(tx Tx) error {
		return tx.ForEachFrom(bucketAudit, start[:], func(k, v []byte) error {
			var ev AuditEvent
			if err := json.Unmarshal(v, &ev); err != nil {
				return fmt.Errorf("audit event %x: %w: %v", k, ErrCorrupt, err)
			}
			out = append(out, ev)
			if len(out) == limit {
				return errStop
			}
			return nil
		})
	})
	return out, err
}
