using System.Text;
using Hyperlane.Core.Devices;

namespace Hyperlane.Core.Tests;

public class DevargsFuzzTests
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789,=()_ ";

    // Unicode the parser must treat as ordinary value text (or reject cleanly in names and keys):
    // accents, CJK, NBSP, line/paragraph separators, control characters, both halves of a surrogate pair.
    private static readonly string[] Unicode = ["é", "中", "\u00A0", "\u2028", "\u2029", "\t", "\n", "\0", "😀", "\uD83D", "\uDE00", "\u0085"];

    private static readonly DevargsSchema Schema = new DevargsSchema("net_fuzz")
        .Int("a", min: 0, max: 100, @default: 1)
        .Bool("b")
        .String("c", repeatable: true, maxLength: 8)
        .Mac("d", allowedWords: ["fixed"])
        .Enum("e", "x", "y")
        .Parenthesized("f", repeatable: true, max: 3)
        .Unsupported("g", "fuzz");

    [Fact]
    public void Random_strings_parse_or_fail_with_a_DevargsException_and_parsed_trees_round_trip()
    {
        var random = new Random(20240611);
        int parsed = 0;
        int rejected = 0;
        for (int n = 0; n < 20_000; n++)
        {
            string input = (n % 2) switch
            {
                0 => RandomText(random, random.Next(0, 40)),
                _ => Mutate(random, ValidText(random, depth: 0)),
            };

            if (Check(input))
            {
                parsed++;
            }
            else
            {
                rejected++;
            }
        }

        // Both outcomes must be well exercised, or the fuzz proves little.
        Assert.True(parsed > 2_000, $"only {parsed} inputs parsed");
        Assert.True(rejected > 2_000, $"only {rejected} inputs were rejected");
    }

    [Fact]
    public void Trees_built_in_code_round_trip()
    {
        var random = new Random(7);
        for (int n = 0; n < 2_000; n++)
        {
            Devargs built = RandomTree(random, depth: 0);
            Devargs reparsed = Devargs.Parse(built.ToString());
            Assert.Equal(built, reparsed);
            Assert.Equal(built.ToString(), reparsed.ToString());
        }
    }

    /// <summary>Parses one input; returns whether it parsed. Any exception but DevargsException fails the test.</summary>
    private static bool Check(string input)
    {
        Devargs d;
        try
        {
            d = Devargs.Parse(input);
        }
        catch (DevargsException ex)
        {
            DevargsParserTests.AssertOneLine(ex.Message);
            Assert.False(Devargs.TryParse(input, out _, out string? error));
            Assert.Equal(ex.Message, error);
            return false;
        }

        Devargs again = Devargs.Parse(d.ToString());
        Assert.Equal(d, again);
        Assert.Equal(d.GetHashCode(), again.GetHashCode());
        Assert.Equal(d.ToString(), again.ToString());
        Assert.Equal(input.Trim(), d.ToString());
        Assert.True(Devargs.TryParse(input, out Devargs? tried, out _));
        Assert.Equal(d, tried);

        foreach (DevargsItem item in d.Items)
        {
            Assert.Equal(item.Key, input.Substring(item.Position, item.Key.Length));
            if (item.Form == DevargsItemForm.Parenthesized)
            {
                // Nested content is a devargs string only sometimes; either way no other exception.
                _ = Devargs.TryParse(item.Value, out _, out _);
            }
        }

        try
        {
            _ = Schema.Validate(d);
        }
        catch (DevargsException ex)
        {
            DevargsParserTests.AssertOneLine(ex.Message);
            Assert.Equal(d.Name, ex.DeviceName);
        }

        return true;
    }

    private static string RandomText(Random random, int length)
    {
        var sb = new StringBuilder(length);
        for (int i = 0; i < length; i++)
        {
            if (random.Next(10) == 0)
            {
                sb.Append(Unicode[random.Next(Unicode.Length)]);
            }
            else
            {
                sb.Append(Alphabet[random.Next(Alphabet.Length)]);
            }
        }

        return sb.ToString();
    }

    /// <summary>A syntactically valid devargs string with random nesting.</summary>
    private static string ValidText(Random random, int depth)
    {
        var sb = new StringBuilder();
        if (random.Next(4) == 0)
        {
            sb.Append(' ');
        }

        sb.Append("net_").Append(Word(random, "abcxyz019_-.:"));
        int items = random.Next(0, 5);
        for (int i = 0; i < items; i++)
        {
            sb.Append(',').Append(Word(random, "abcdefg_-.0"));
            switch (random.Next(3))
            {
                case 0:
                    sb.Append('=').Append(Value(random, depth, allowComma: false));
                    break;
                case 1:
                    sb.Append('(').Append(random.Next(3) == 0 && depth < 4 ? ValidText(random, depth + 1) : Value(random, depth + 1, allowComma: true)).Append(')');
                    break;
                default:
                    break;
            }
        }

        return sb.ToString();
    }

    private static string Word(Random random, string chars)
    {
        var sb = new StringBuilder();
        int length = random.Next(1, 6);
        for (int i = 0; i < length; i++)
        {
            sb.Append(chars[random.Next(chars.Length)]);
        }

        return sb.ToString();
    }

    /// <summary>Value text with balanced parentheses; commas only inside parentheses unless allowed.</summary>
    private static string Value(Random random, int depth, bool allowComma)
    {
        var sb = new StringBuilder();
        int length = random.Next(0, 8);
        for (int i = 0; i < length; i++)
        {
            int pick = random.Next(12);
            if (pick == 0 && depth < Devargs.MaxDepth)
            {
                sb.Append('(').Append(Value(random, depth + 1, allowComma: true)).Append(')');
            }
            else if (pick == 1)
            {
                sb.Append(Unicode[random.Next(Unicode.Length)]);
            }
            else
            {
                char c = Alphabet[random.Next(Alphabet.Length)];
                if (c is '(' or ')' || (c == ',' && !allowComma))
                {
                    c = '=';
                }

                sb.Append(c);
            }
        }

        return sb.ToString();
    }

    private static string Mutate(Random random, string text)
    {
        var sb = new StringBuilder(text);
        int edits = random.Next(0, 3);
        for (int i = 0; i < edits; i++)
        {
            int at = random.Next(sb.Length + 1);
            string insert = random.Next(5) == 0 ? Unicode[random.Next(Unicode.Length)] : Alphabet[random.Next(Alphabet.Length)].ToString();
            switch (random.Next(3))
            {
                case 0:
                    sb.Insert(at, insert);
                    break;
                case 1 when at < sb.Length:
                    sb.Remove(at, 1);
                    break;
                default:
                    if (at < sb.Length)
                    {
                        sb.Remove(at, 1);
                    }

                    sb.Insert(at, insert);
                    break;
            }
        }

        return sb.ToString();
    }

    /// <summary>A tree built in code; <paramref name="depth"/> is how many parentheses will enclose it.</summary>
    private static Devargs RandomTree(Random random, int depth)
    {
        var items = new List<DevargsItem>();
        int count = random.Next(0, 5);
        for (int i = 0; i < count; i++)
        {
            string key = Word(random, "abcdefg_-.0");
            switch (random.Next(3))
            {
                case 0:
                    items.Add(new DevargsItem(key, Value(random, depth, allowComma: false).TrimEnd(), DevargsItemForm.KeyValue));
                    break;
                case 1:
                    string inner = random.Next(2) == 0 && depth < 3
                        ? RandomTree(random, depth + 1).ToString()
                        : Value(random, depth + 1, allowComma: true);
                    items.Add(new DevargsItem(key, inner, DevargsItemForm.Parenthesized));
                    break;
                default:
                    items.Add(new DevargsItem(key, "", DevargsItemForm.Flag));
                    break;
            }
        }

        return new Devargs("net_" + Word(random, "abc019"), items);
    }
}
