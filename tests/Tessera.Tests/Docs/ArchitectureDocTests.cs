using System.Text.RegularExpressions;

namespace Tessera.Tests.Docs;

/// <summary>
/// README.md and the pages of docs/ (docs/architecture.md first) are read first by a newcomer, and their names drift as
/// code is renamed or reverted. These check the names a reader would go looking for: every repository path written in
/// backticks exists, and every TESSERA_* variable named is read somewhere, unless docs/architecture.md names it as a
/// reverted experiment's (<see cref="s_retired"/>).
/// </summary>
public sealed partial class ArchitectureDocTests
{
    // Variables of reverted experiments that the page still names next to their measurements (with the commits that
    // had them). Each must be gone from the code: one that comes back belongs in the page's table instead.
    private static readonly string[] s_retired = ["TESSERA_QGEMM_CHUNK", "TESSERA_CORE_TOKENS"];

    // Where variables are read: the code, the scripts, the tests (not this folder, which names the retired ones).
    private static readonly string[] s_codeRoots = ["src", "tests", "bench", "conformance", "fuzz", "deploy", "test.sh", "tessera"];
    private static readonly string[] s_codeExtensions = [".cs", ".py", ".sh", ".mjs", ".js", ".yaml", ".csproj", ".props", ""];
    private static readonly string[] s_skippedFolders = ["bin", "obj", "artifacts", "node_modules", "Docs"];

    // README.md and every page of docs/ (benchmarks.md and the generated conformance.md too), so that a page added
    // later is checked without being listed here.
    private static readonly string[] s_documents = DocumentPaths();

    [Fact]
    public void EverySourcePathInBackticksExists()
    {
        var missing = new List<string>();
        foreach (var (line, number) in DocLines())
        {
            foreach (Match span in BacktickSpan().Matches(line))
            {
                foreach (Match path in SourcePath().Matches(span.Groups[1].Value))
                {
                    string relative = path.Value.TrimEnd('.', ',', ':', ';', ')');
                    // The policy table names files under src/ by project ("Tessera.Cluster/Deployments/..."); check those too.
                    if (relative.StartsWith("Tessera.", StringComparison.Ordinal)) relative = "src/" + relative;
                    string full = Path.Combine(TestPaths.RepositoryRoot, relative);
                    if (!File.Exists(full) && !Directory.Exists(full)) missing.Add($"{number}: {path.Value}");
                }
            }
        }

        Assert.True(missing.Count == 0, "the documents name paths that do not exist:\n" + string.Join("\n", missing));
    }

    [Fact]
    public void EveryTesseraVariableIsReadByTheCodeOrNamedAsRetired()
    {
        string code = CodeText();
        var problems = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (line, number) in DocLines())
        {
            foreach (Match variable in TesseraVariable().Matches(line))
            {
                string name = variable.Value;
                if (!seen.Add(name)) continue;
                bool inCode = Regex.IsMatch(code, Regex.Escape(name) + "(?![A-Z0-9_])");
                if (s_retired.Contains(name) && inCode)
                {
                    problems.Add($"{number}: {name} is read by the code again: describe it in the page's table and take it off the retired list (s_retired)");
                }
                else if (!s_retired.Contains(name) && !inCode)
                {
                    problems.Add($"{number}: {name} is read by no code: rename it, or say it is reverted (with its commit) and add it to the retired list (s_retired)");
                }
            }
        }

        problems.AddRange(s_retired.Where(r => !seen.Contains(r)).Select(r => $"{r} is on the retired list but the documents no longer name it"));
        Assert.True(problems.Count == 0, "the documents' TESSERA_* variables:\n" + string.Join("\n", problems));
    }

    private static string[] DocumentPaths() =>
        ["README.md", .. Directory.EnumerateFiles(Path.Combine(TestPaths.RepositoryRoot, "docs"), "*.md")
            .Select(f => "docs/" + Path.GetFileName(f))
            .Order(StringComparer.Ordinal)];

    /// <summary>Every line of the documents, numbered as "FILE:LINE" for the messages.</summary>
    private static IEnumerable<(string Line, string Number)> DocLines() =>
        s_documents.SelectMany(doc => File.ReadLines(Path.Combine(TestPaths.RepositoryRoot, doc)).Select((line, i) => (line, $"{doc}:{i + 1}")));

    private static string CodeText()
    {
        var text = new System.Text.StringBuilder();
        foreach (string root in s_codeRoots)
        {
            string full = Path.Combine(TestPaths.RepositoryRoot, root);
            IEnumerable<string> files = File.Exists(full) ? [full]
                : Directory.Exists(full) ? Directory.EnumerateFiles(full, "*", SearchOption.AllDirectories).Where(IsCode)
                : [];
            foreach (string file in files) text.Append(File.ReadAllText(file)).Append('\n');
        }

        return text.ToString();
    }

    private static bool IsCode(string file)
    {
        string relative = Path.GetRelativePath(TestPaths.RepositoryRoot, file);
        var parts = relative.Split(Path.DirectorySeparatorChar);
        if (parts.Take(parts.Length - 1).Any(p => s_skippedFolders.Contains(p) || p.StartsWith('.'))) return false;
        return s_codeExtensions.Contains(Path.GetExtension(file));
    }

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex BacktickSpan();

    // A path from the repository root (src/, tests/, bench/, conformance/, fuzz/, deploy/, docs/), or Tessera.Part/...
    // (a file or folder under src/).
    [GeneratedRegex(@"(?<![\w./-])(?:src/|tests/|bench/|conformance/|fuzz/|deploy/|docs/|Tessera\.[A-Za-z]+/)[A-Za-z0-9_.\-/]*")]
    private static partial Regex SourcePath();

    [GeneratedRegex(@"TESSERA_[A-Z0-9_]*[A-Z0-9]")]
    private static partial Regex TesseraVariable();
}
