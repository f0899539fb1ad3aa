// Package report formats dlayer's results: tables for people (columns as
// `docker ps` prints them, via olekukonko/tablewriter), explanations in
// plain English, `docker diff` lines, and JSON for machines. It never
// touches the disk: every function takes a value and an io.Writer.
//
// Names from a container's layers are attacker-controlled. Every name that
// reaches a table or a line of text goes through Escape, so a newline or an
// invalid UTF-8 byte can never break the output apart.
package report
