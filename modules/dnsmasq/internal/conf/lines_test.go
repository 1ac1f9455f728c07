package conf

import (
	"testing"
)

func TestCleanLine(t *testing.T) {
	cases := map[string]string{
		"server=1.2.3.4#53 # comment": "server=1.2.3.4#53",
		`txt-record=a,"x #y"`:         "txt-record=a,x\x01#y",
		"  port = 53  ":               "port=53",
		"# whole line":                "",
		`txt-record=a,"q\"uote\\d"`:   `txt-record=a,q"uote\d`,
		"address=/x/1.2.3.4\t#c":      "address=/x/1.2.3.4",
		"local=/lan/":                 "local=/lan/",
		`txt-record=n,"a, b",c`:       "txt-record=n,a\x00\x01b,c",
		"bogus-priv":                  "bogus-priv",
		"address=/#/1.2.3.4":          "address=/#/1.2.3.4",
	}
	for in, want := range cases {
		got, err := cleanLine(in)
		if err != nil || got != want {
			t.Errorf("cleanLine(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := cleanLine(`txt-record=a,"open`); err == nil {
		t.Error("unterminated quote accepted")
	}
}
