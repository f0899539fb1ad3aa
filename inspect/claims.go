package inspect

import "sort"

// LayerDirClaims maps each layer dir id that the store's container
// records name (as mount-id or init-id) to the containers whose records
// name it, sorted. A well-formed store has one claimant per id; evidence
// can hold two records naming one dir, and then every command must name
// both rather than pick one. Unreadable records are skipped (they are
// findings where they are read).
func (s *Store) LayerDirClaims() map[string][]string {
	out := map[string][]string{}
	ids, _ := s.MountContainerIDs()
	for _, cid := range ids {
		rec, err := s.MountRecord(cid)
		if err != nil {
			continue
		}
		for _, id := range []string{rec.MountID, rec.InitID} {
			if id != "" {
				out[id] = append(out[id], cid)
			}
		}
	}
	for _, cs := range out {
		sort.Strings(cs)
	}
	return out
}

// SharedLayerDirs lists the layer dir ids that more than one container
// record names, sorted.
func SharedLayerDirs(claims map[string][]string) []string {
	var out []string
	for id, cs := range claims {
		if len(cs) > 1 {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}
