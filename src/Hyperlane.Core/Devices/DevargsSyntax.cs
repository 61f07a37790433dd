using System.Globalization;
using System.Text;

namespace Hyperlane.Core.Devices;

/// <summary>
/// The devargs grammar: balanced-parenthesis scanning, top-level splitting, key and name rules,
/// and quoting of user text for one-line messages.
/// </summary>
internal static class DevargsSyntax
{
    /// <summary>Deepest parenthesis nesting a devargs string may have.</summary>
    public const int MaxDepth = 16;

    /// <summary>Longest user text quoted in a message before it is cut with "...".</summary>
    private const int MaxQuoted = 80;

    public const string KeyCharsText = "A-Z, a-z, 0-9, '_', '-' and '.'";
    public const string NameCharsText = "A-Z, a-z, 0-9, '_', '-', '.' and ':'";

    public static bool IsKeyChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.';

    public static bool IsNameChar(char c) => IsKeyChar(c) || c == ':';

    public static bool IsValidKey(ReadOnlySpan<char> key)
    {
        if (key.IsEmpty)
        {
            return false;
        }

        foreach (char c in key)
        {
            if (!IsKeyChar(c))
            {
                return false;
            }
        }

        return true;
    }

    public static bool IsValidName(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty)
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!IsNameChar(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Quotes user text for a message: single quotes, control and line-break characters escaped,
    /// long text cut, so the message stays on one line.
    /// </summary>
    public static string Quote(ReadOnlySpan<char> text)
    {
        bool cut = text.Length > MaxQuoted;
        if (cut)
        {
            int take = MaxQuoted;
            if (char.IsHighSurrogate(text[take - 1]))
            {
                take--;
            }

            text = text[..take];
        }

        var sb = new StringBuilder(text.Length + 8);
        sb.Append('\'');
        foreach (char c in text)
        {
            switch (c)
            {
                case '\n':
                    sb.Append("\\n");
                    break;
                case '\r':
                    sb.Append("\\r");
                    break;
                case '\t':
                    sb.Append("\\t");
                    break;
                default:
                    if (char.IsControl(c) || c is '\u2028' or '\u2029')
                    {
                        sb.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        if (cut)
        {
            sb.Append("...");
        }

        sb.Append('\'');
        return sb.ToString();
    }

    /// <summary>Index of the ')' matching the '(' at <paramref name="open"/>; the text must be balanced there.</summary>
    private static int MatchingClose(string s, int open, int end)
    {
        int depth = 0;
        for (int i = open; i < end; i++)
        {
            char c = s[i];
            if (c == '(')
            {
                depth++;
            }
            else if (c == ')' && --depth == 0)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// Checks that <paramref name="text"/> has balanced parentheses no deeper than
    /// <paramref name="maxDepth"/> and, when <paramref name="forbidTopLevelComma"/>, no comma outside them.
    /// Returns null when it does, else the reason.
    /// </summary>
    public static string? CheckNestedText(ReadOnlySpan<char> text, int maxDepth, bool forbidTopLevelComma)
    {
        int depth = 0;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '(')
            {
                if (++depth > maxDepth)
                {
                    return string.Create(CultureInfo.InvariantCulture, $"parentheses nested deeper than {MaxDepth} levels at position {i}");
                }
            }
            else if (c == ')')
            {
                if (--depth < 0)
                {
                    return string.Create(CultureInfo.InvariantCulture, $"unbalanced parentheses: unexpected ')' at position {i}");
                }
            }
            else if (c == ',' && depth == 0 && forbidTopLevelComma)
            {
                return string.Create(CultureInfo.InvariantCulture, $"a comma outside parentheses at position {i} would end the value");
            }
        }

        return depth == 0 ? null : "unbalanced parentheses: a '(' is never closed";
    }

    /// <summary>A parse failure: device name when known (else empty), 0-based position, one-line detail.</summary>
    public readonly record struct Failure(string DeviceName, int? Position, string Detail)
    {
        public DevargsException ToException(string? key = null) => new(DeviceName, key, Position, Detail);

        public string Message => (DeviceName.Length == 0 ? "devargs" : DeviceName) + ": " + Detail;
    }

    /// <summary>Parses <paramref name="source"/>; on failure returns false and says why.</summary>
    public static bool TryParse(string source, out string name, out DevargsItem[] items, out Failure failure)
    {
        name = string.Empty;
        items = [];
        failure = default;

        int start = 0;
        int end = source.Length;
        while (start < end && char.IsWhiteSpace(source[start]))
        {
            start++;
        }

        while (end > start && char.IsWhiteSpace(source[end - 1]))
        {
            end--;
        }

        if (start == end)
        {
            failure = new(string.Empty, null, "the devargs string is empty");
            return false;
        }

        // The name, if the first segment is one, prefixes every later message.
        // A valid name holds no parenthesis, so the first comma ends it.
        int firstComma = source.IndexOf(',', start, end - start);
        int nameEnd = firstComma < 0 ? end : firstComma;
        string device = IsValidName(source.AsSpan(start, nameEnd - start)) ? source[start..nameEnd] : string.Empty;

        // Pass 1: parentheses balance and depth over the whole string.
        Span<int> opens = stackalloc int[MaxDepth];
        int depth = 0;
        for (int i = start; i < end; i++)
        {
            char c = source[i];
            if (c == '(')
            {
                if (depth == MaxDepth)
                {
                    failure = new(device, i, string.Create(CultureInfo.InvariantCulture, $"parentheses nested deeper than {MaxDepth} levels at position {i}"));
                    return false;
                }

                opens[depth++] = i;
            }
            else if (c == ')')
            {
                if (depth == 0)
                {
                    failure = new(device, i, string.Create(CultureInfo.InvariantCulture, $"unbalanced parentheses: unexpected ')' at position {i}"));
                    return false;
                }

                depth--;
            }
        }

        if (depth > 0)
        {
            failure = new(device, opens[0], string.Create(CultureInfo.InvariantCulture, $"unbalanced parentheses: '(' at position {opens[0]} is never closed"));
            return false;
        }

        // Pass 2: split at top-level commas; the first segment is the device name.
        var list = new List<DevargsItem>();
        bool first = true;
        int segStart = start;
        depth = 0;
        for (int i = start; i <= end; i++)
        {
            char c = i < end ? source[i] : ',';
            if (c == '(')
            {
                depth++;
            }
            else if (c == ')')
            {
                depth--;
            }
            else if (c == ',' && depth == 0)
            {
                if (first)
                {
                    if (!CheckName(source, segStart, i, out failure))
                    {
                        return false;
                    }

                    first = false;
                }
                else
                {
                    if (!TryParseItem(source, segStart, i, end, device, out DevargsItem? item, out failure))
                    {
                        return false;
                    }

                    list.Add(item);
                }

                segStart = i + 1;
            }
        }

        name = device;
        items = [.. list];
        return true;
    }

    private static bool CheckName(string s, int start, int end, out Failure failure)
    {
        failure = default;
        ReadOnlySpan<char> name = s.AsSpan(start, end - start);
        if (IsValidName(name))
        {
            return true;
        }

        if (name.IsEmpty || name[0] is '=' or '(')
        {
            failure = new(string.Empty, start, string.Create(CultureInfo.InvariantCulture, $"empty device name at position {start}: the string must start with the device name"));
        }
        else if (name.IndexOfAny('=', '(') >= 0)
        {
            failure = new(string.Empty, start, $"device name is missing: the string starts with the item {Quote(name)}");
        }
        else
        {
            failure = new(string.Empty, start, $"invalid device name {Quote(name)} (allowed characters: {NameCharsText})");
        }

        return false;
    }

    private static bool TryParseItem(
        string s, int segStart, int segEnd, int end, string device,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out DevargsItem? item, out Failure failure)
    {
        item = null;
        failure = default;
        if (segStart == segEnd)
        {
            failure = segEnd == end
                ? new(device, segStart - 1, string.Create(CultureInfo.InvariantCulture, $"trailing comma at position {segStart - 1}"))
                : new(device, segStart, string.Create(CultureInfo.InvariantCulture, $"empty item at position {segStart} (two commas in a row)"));
            return false;
        }

        int mark = s.AsSpan(segStart, segEnd - segStart).IndexOfAny('=', '(');
        int keyEnd;
        string value;
        DevargsItemForm form;
        if (mark < 0)
        {
            keyEnd = segEnd;
            value = string.Empty;
            form = DevargsItemForm.Flag;
        }
        else if (s[segStart + mark] == '=')
        {
            keyEnd = segStart + mark;
            value = s[(keyEnd + 1)..segEnd];
            form = DevargsItemForm.KeyValue;
        }
        else
        {
            keyEnd = segStart + mark;
            int close = MatchingClose(s, keyEnd, segEnd);
            if (close != segEnd - 1)
            {
                failure = new(device, close + 1, string.Create(CultureInfo.InvariantCulture,
                    $"unexpected text {Quote(s.AsSpan(close + 1, segEnd - close - 1))} after ')' at position {close + 1}"));
                return false;
            }

            value = s[(keyEnd + 1)..close];
            form = DevargsItemForm.Parenthesized;
        }

        ReadOnlySpan<char> key = s.AsSpan(segStart, keyEnd - segStart);
        if (!CheckKey(key, segStart, device, out failure))
        {
            return false;
        }

        item = new DevargsItem(key.ToString(), value, form, segStart);
        return true;
    }

    private static bool CheckKey(ReadOnlySpan<char> key, int position, string device, out Failure failure)
    {
        failure = default;
        if (key.IsEmpty)
        {
            failure = new(device, position, string.Create(CultureInfo.InvariantCulture, $"empty key at position {position}"));
            return false;
        }

        if (IsValidKey(key))
        {
            return true;
        }

        bool whitespace = false;
        foreach (char c in key)
        {
            whitespace |= char.IsWhiteSpace(c);
        }

        string why = whitespace ? "keys must not contain whitespace" : "keys may contain only " + KeyCharsText;
        failure = new(device, position, string.Create(CultureInfo.InvariantCulture, $"invalid key {Quote(key)} at position {position}: {why}"));
        return false;
    }
}
