package campaign

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteReports writes campaign.json, junit.xml, summary.md and
// campaign.html of c into dir. Everything is rendered from the Campaign
// alone, which Index rebuilds from the cells' cell.json files: a campaign
// directory re-renders from disk.
func WriteReports(dir string, c *Campaign) error {
	if err := writeIndex(dir, c); err != nil {
		return err
	}
	junit, err := MarshalJUnit(c)
	if err != nil {
		return err
	}
	page, err := RenderHTML(c)
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{JUnitFile: junit, SummaryFile: []byte(SummaryOf(c)), HTMLFile: page} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("write campaign %s: %w", name, err)
		}
	}
	return nil
}
