package tokenstore

import "slices"

// Memberships lists the organizations user belongs to (is a member of one
// of their groups), sorted by name.
func (s *Store) Memberships(user string) ([]string, error) {
	var out []string
	err := s.be.View(func(tx Tx) error {
		return tx.ForEach(bucketAccounts, nil, func(k, _ []byte) error {
			a, err := getAccount(tx, string(k))
			if err != nil || a.Type != Org {
				return err
			}
			groups, err := listGroups(tx, a.Name)
			if err != nil {
				return err
			}
			if slices.ContainsFunc(groups, func(g *Group) bool { return slices.Contains(g.Members, user) }) {
				out = append(out, a.Name)
			}
			return nil
		})
	})
	return out, err
}
