// Command screenshot renders an HTML file in headless Chromium and writes
// a PNG of it: make screenshot's picture of dlayer report (docs/report.png).
// It fails when the page logs an error or makes a request, as the
// browser tests do. With -select (repeatable), the picture is of those
// elements only, each the first its CSS selector matches, one below the
// other: the parts of a long page worth showing.
//
//	screenshot [-width 1280] [-select CSS]... -o OUT.png FILE.html
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dlayer/dlayer/fixtures/browser"
)

func main() {
	out := flag.String("o", "", "write the PNG to `FILE`")
	width := flag.Int("width", 1280, "the window's width, in CSS pixels")
	height := flag.Int("height", 900, "the window's height")
	var sel selectors
	flag.Var(&sel, "select", "shoot the first element this CSS selector matches (repeatable: stacked in order; default: the whole page)")
	flag.Parse()
	if *out == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: screenshot [-width N] [-select CSS] -o OUT.png FILE.html")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *out, sel, browser.Options{Width: *width, Height: *height}); err != nil {
		fmt.Fprintln(os.Stderr, "screenshot:", err)
		os.Exit(1)
	}
}

// selectors are the -select flags.
type selectors []string

func (s *selectors) String() string     { return strings.Join(*s, ", ") }
func (s *selectors) Set(v string) error { *s = append(*s, v); return nil }

func run(file, out string, sel []string, o browser.Options) error {
	abs, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	page := (&url.URL{Scheme: "file", Path: abs}).String()
	p, err := browser.Open(ctx, page, o)
	if err != nil {
		return err
	}
	defer p.Close()
	if err := p.Settle(200 * time.Millisecond); err != nil {
		return err
	}
	var shots [][]byte
	for _, s := range append(sel, "")[:max(len(sel), 1)] {
		b, err := p.Screenshot(s)
		if err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
		shots = append(shots, b)
	}
	for _, m := range p.Messages() {
		if m.IsError() {
			return fmt.Errorf("%s: the page says %s", file, m)
		}
	}
	for _, r := range p.Requests() {
		if r != page {
			return fmt.Errorf("%s: the page requested %s", file, r)
		}
	}
	img, err := stack(shots)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

// gap is the space between two stacked shots, in pixels.
const gap = 16

// stack puts the PNGs one below the other on the page's background.
func stack(shots [][]byte) (image.Image, error) {
	var imgs []image.Image
	w, h := 0, -gap
	for _, b := range shots {
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		imgs = append(imgs, img)
		w, h = max(w, img.Bounds().Dx()), h+gap+img.Bounds().Dy()
	}
	if len(imgs) == 1 {
		return imgs[0], nil
	}
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(out, out.Bounds(), image.NewUniform(color.RGBA{0xfb, 0xfc, 0xfd, 0xff}), image.Point{}, draw.Src)
	y := 0
	for _, img := range imgs {
		draw.Draw(out, image.Rect(0, y, img.Bounds().Dx(), y+img.Bounds().Dy()), img, img.Bounds().Min, draw.Src)
		y += img.Bounds().Dy() + gap
	}
	return out, nil
}
