namespace Tessera.Cli.Ocr;

/// <summary>Character accuracy: 1 − (edit distance to the truth) / (characters in the truth), over Unicode characters.</summary>
internal static class CharacterAccuracy
{
    /// <summary>Levenshtein distance counting insertions, deletions and substitutions of single characters.</summary>
    public static int Distance(string truth, string found)
    {
        var a = truth.EnumerateRunes().ToArray();
        var b = found.EnumerateRunes().ToArray();
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int substitute = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitute, Math.Min(previous[j], current[j - 1]) + 1);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    public static int Length(string text) => text.EnumerateRunes().Count();
}
