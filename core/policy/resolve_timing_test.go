package policy

import "testing"

func BenchmarkResolve(b *testing.B) {
	p := mustParse(b, "lead-engineer.json")
	models := []string{"gpt-4o", "o4-mini", "claude-opus-4", "mistral-large", "llama-3.1-70b"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := p.Resolve(models[i%len(models)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResolveRefused(b *testing.B) {
	p := mustParse(b, "lead-engineer.json")
	b.ReportAllocs()
	for b.Loop() {
		if p.AllowsModel("gemini-pro") {
			b.Fatal("allowed")
		}
	}
}

func BenchmarkParse(b *testing.B) {
	data := readPolicy(b, "lead-engineer.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
