namespace Tessera.Tests.Conformance;

/// <summary>conformance/required-operators.txt: the operator list and the cases it leaves out.</summary>
internal sealed class RequiredOperators
{
    private RequiredOperators(HashSet<string> operators, HashSet<string> excludedCases)
    {
        Operators = operators;
        ExcludedCases = excludedCases;
    }

    public static RequiredOperators Default { get; } = Load(Path.Combine(TestPaths.RepositoryRoot, "conformance", "required-operators.txt"));

    public IReadOnlySet<string> Operators { get; }

    public IReadOnlySet<string> ExcludedCases { get; }

    /// <summary>A case is required when none of its operators is outside the list (default-domain names only).</summary>
    public bool Covers(IReadOnlyCollection<string> caseOperators) =>
        caseOperators.Count > 0 && caseOperators.All(Operators.Contains);

    private static RequiredOperators Load(string path)
    {
        var operators = new HashSet<string>(StringComparer.Ordinal);
        var excluded = new HashSet<string>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines(path))
        {
            if (line.StartsWith('#'))
            {
                continue;
            }

            foreach (string word in line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (word.StartsWith('!'))
                {
                    excluded.Add(word[1..]);
                }
                else
                {
                    operators.Add(word);
                }
            }
        }

        return new RequiredOperators(operators, excluded);
    }
}
