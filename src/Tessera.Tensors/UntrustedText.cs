using System.Text;

namespace Tessera.Tensors;

/// <summary>
/// Text taken from an input (a dtype string, a JSON literal, a name) as it may appear in a one-line error: control
/// characters (a newline would split the line, an escape sequence would reach the terminal) written as \xNN or \uNNNN,
/// and long text cut, so whatever bytes a client sends, the message stays one readable line.
/// </summary>
public static class UntrustedText
{
    public static string OneLine(string text, int maxChars = int.MaxValue)
    {
        bool cut = text.Length > maxChars;
        string kept = cut ? text[..maxChars] : text;
        if (!cut && !kept.Any(char.IsControl))
        {
            return kept;
        }

        var line = new StringBuilder(kept.Length + 8);
        foreach (char c in kept)
        {
            if (!char.IsControl(c)) line.Append(c);
            else if (c <= 0xFF) line.Append($"\\x{(int)c:x2}");
            else line.Append($"\\u{(int)c:x4}");
        }

        return cut ? line.Append('…').ToString() : line.ToString();
    }
}
