package harness

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/websocket"
)

// Chromium is a real headless Chromium (Debian's chromium) driven through
// the DevTools protocol on a loopback port: one page, its console errors
// and uncaught exceptions collected.
type Chromium struct {
	cmd  *exec.Cmd
	ws   *websocket.Conn
	mu   sync.Mutex
	next int
	wait map[int]chan cdpMessage
	errs []string
}

// cdpMessage is one DevTools protocol message: a reply (ID) or an event
// (Method).
type cdpMessage struct {
	ID     int             `json:"id,omitempty"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

var devtoolsURL = regexp.MustCompile(`DevTools listening on (ws://127\.0\.0\.1:(\d+)/\S+)`)

// StartChromium runs headless Chromium with its profile in dir, every host
// name resolved to 127.0.0.1 (it never reaches the network), and attaches
// to its first page with the Runtime, Log and Page domains enabled.
func StartChromium(dir string) (*Chromium, error) {
	cmd := exec.Command("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-quic", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--host-resolver-rules=MAP * 127.0.0.1", "--remote-debugging-address=127.0.0.1",
		"--remote-debugging-port=0", "--remote-allow-origins=http://127.0.0.1", "--user-data-dir="+dir, "about:blank")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Stop ends its helper processes too
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	port, err := devtoolsPort(stderr)
	c := &Chromium{cmd: cmd, wait: map[int]chan cdpMessage{}}
	if err != nil {
		c.Stop()
		return nil, err
	}
	if err := c.attach(port); err != nil {
		c.Stop()
		return nil, err
	}
	for _, domain := range []string{"Runtime", "Log", "Page"} {
		if err := c.Call(domain+".enable", nil, nil); err != nil {
			c.Stop()
			return nil, err
		}
	}
	return c, nil
}

// devtoolsPort reads Chromium's stderr until it names its DevTools port,
// then keeps draining it.
func devtoolsPort(stderr interface{ Read([]byte) (int, error) }) (string, error) {
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := devtoolsURL.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[2]:
				default:
				}
			}
		}
	}()
	select {
	case p := <-found:
		return p, nil
	case <-time.After(20 * time.Second):
		return "", errors.New("chromium did not open its DevTools port within 20 s")
	}
}

// attach connects to the first page target.
func (c *Chromium) attach(port string) error {
	res, err := http.Get("http://127.0.0.1:" + port + "/json/list")
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var targets []struct {
		Type string `json:"type"`
		WS   string `json:"webSocketDebuggerUrl"`
	}
	if err := json.NewDecoder(res.Body).Decode(&targets); err != nil {
		return err
	}
	for _, t := range targets {
		if t.Type == "page" {
			cfg, err := websocket.NewConfig(t.WS, "http://127.0.0.1")
			if err != nil {
				return err
			}
			if c.ws, err = websocket.DialConfig(cfg); err != nil {
				return err
			}
			c.ws.MaxPayloadBytes = 64 << 20
			go c.read()
			return nil
		}
	}
	return errors.New("chromium has no page target")
}

// read delivers replies and collects console errors and exceptions.
func (c *Chromium) read() {
	for {
		var m cdpMessage
		if err := websocket.JSON.Receive(c.ws, &m); err != nil {
			c.mu.Lock()
			for id, ch := range c.wait {
				close(ch)
				delete(c.wait, id)
			}
			c.mu.Unlock()
			return
		}
		if m.ID != 0 {
			c.mu.Lock()
			ch := c.wait[m.ID]
			delete(c.wait, m.ID)
			c.mu.Unlock()
			if ch != nil {
				ch <- m
			}
			continue
		}
		if e := consoleError(m); e != "" {
			c.mu.Lock()
			c.errs = append(c.errs, e)
			c.mu.Unlock()
		}
	}
}

// consoleError describes an event that is a console error, an uncaught
// exception or an error log entry (a failed load, a CSP violation); "" for
// any other event.
func consoleError(m cdpMessage) string {
	switch m.Method {
	case "Runtime.consoleAPICalled":
		var p struct {
			Type string            `json:"type"`
			Args []json.RawMessage `json:"args"`
		}
		_ = json.Unmarshal(m.Params, &p)
		if p.Type == "error" || p.Type == "assert" {
			return "console." + p.Type + ": " + string(m.Params)
		}
	case "Runtime.exceptionThrown":
		return "exception: " + string(m.Params)
	case "Log.entryAdded":
		var p struct {
			Entry struct {
				Level, Text, URL string
			} `json:"entry"`
		}
		_ = json.Unmarshal(m.Params, &p)
		if p.Entry.Level == "error" {
			return "log: " + p.Entry.Text + " " + p.Entry.URL
		}
	}
	return ""
}

// Call sends a DevTools command and decodes its result into result (when
// not nil).
func (c *Chromium) Call(method string, params, result any) error {
	c.mu.Lock()
	c.next++
	id := c.next
	ch := make(chan cdpMessage, 1)
	c.wait[id] = ch
	c.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if err := websocket.JSON.Send(c.ws, msg); err != nil {
		return err
	}
	select {
	case m, ok := <-ch:
		if !ok {
			return fmt.Errorf("%s: connection to chromium closed", method)
		}
		if m.Error != nil {
			return fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		if result != nil {
			return json.Unmarshal(m.Result, result)
		}
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("%s: no reply within 30 s", method)
	}
}

// Navigate loads url in the page.
func (c *Chromium) Navigate(url string) error {
	var res struct {
		ErrorText string `json:"errorText"`
	}
	if err := c.Call("Page.navigate", map[string]any{"url": url}, &res); err != nil {
		return err
	}
	if res.ErrorText != "" {
		return fmt.Errorf("navigating to %s: %s", url, res.ErrorText)
	}
	return nil
}

// Eval evaluates a JavaScript expression in the page (awaiting a promise)
// and decodes its JSON-able value into out.
func (c *Chromium) Eval(expr string, out any) error {
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails json.RawMessage `json:"exceptionDetails"`
	}
	if err := c.Call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &res); err != nil {
		return err
	}
	if len(res.ExceptionDetails) > 0 {
		return fmt.Errorf("evaluating %q: %s", expr, res.ExceptionDetails)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(res.Result.Value, out)
}

// WaitFor evaluates a boolean expression until it is true.
func (c *Chromium) WaitFor(expr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var ok bool
		err := c.Eval("Boolean("+expr+")", &ok)
		if err == nil && ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waited %s for %s (last error: %v)", timeout, expr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// SetViewport sets the page's size in CSS pixels (mobile: a touch screen
// with the mobile viewport rules).
func (c *Chromium) SetViewport(width, height int, mobile bool) error {
	scale := 1
	if mobile {
		scale = 2
	}
	return c.Call("Emulation.setDeviceMetricsOverride", map[string]any{
		"width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile}, nil)
}

// ScreenshotElement returns a PNG of the element a CSS selector names.
func (c *Chromium) ScreenshotElement(selector string) ([]byte, error) {
	var box struct{ X, Y, W, H float64 }
	expr := `(() => { const r = document.querySelector(` + jsString(selector) + `).getBoundingClientRect();
		return {X: r.left + window.scrollX, Y: r.top + window.scrollY, W: r.width, H: r.height}; })()`
	if err := c.Eval(expr, &box); err != nil {
		return nil, err
	}
	var res struct {
		Data string `json:"data"`
	}
	err := c.Call("Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": box.X, "y": box.Y, "width": box.W, "height": box.H, "scale": 1}}, &res)
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(res.Data)
}

// PressKey sends one key press (e.g. "Tab", "Enter") to the page.
func (c *Chromium) PressKey(key string, code int) error {
	for _, typ := range []string{"rawKeyDown", "keyUp"} {
		if err := c.Call("Input.dispatchKeyEvent", map[string]any{"type": typ, "key": key, "code": key,
			"windowsVirtualKeyCode": code}, nil); err != nil {
			return err
		}
	}
	return nil
}

// ConsoleErrors are the console errors, uncaught exceptions and error log
// entries of the page so far.
func (c *Chromium) ConsoleErrors() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.errs...)
}

// Stop closes the connection and stops Chromium.
func (c *Chromium) Stop() {
	if c.ws != nil {
		_ = c.ws.Close()
	}
	if c.cmd.Process != nil {
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL) // its own process group
		_ = c.cmd.Wait()
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return strings.ReplaceAll(string(b), "</", `<\/`)
}
