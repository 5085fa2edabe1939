using System.Text;

namespace Tessera.Cli.Ocr;

/// <summary>Lays out text that mixes Latin and CJK characters in a terminal's fixed-width columns.</summary>
internal static class TerminalColumns
{
    /// <summary>Columns a string takes in a terminal: East Asian wide and full-width characters take two.</summary>
    public static int Width(string text)
    {
        int width = 0;
        foreach (Rune r in text.EnumerateRunes())
        {
            int c = r.Value;
            bool wide = c is >= 0x1100 and <= 0x115F or >= 0x2E80 and <= 0xA4CF or >= 0xAC00 and <= 0xD7A3 or >= 0xF900 and <= 0xFAFF
                or >= 0xFE30 and <= 0xFE4F or >= 0xFF00 and <= 0xFF60 or >= 0xFFE0 and <= 0xFFE6 or >= 0x20000 and <= 0x3FFFD;
            width += wide ? 2 : 1;
        }

        return width;
    }

    /// <summary>The text followed by spaces up to <paramref name="columns"/> columns.</summary>
    public static string PadRight(string text, int columns) => text + new string(' ', Math.Max(0, columns - Width(text)));
}
