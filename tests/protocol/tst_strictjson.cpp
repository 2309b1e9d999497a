#include "protocol/json/strictjson.h"

#include <QTest>
#include <string>

using namespace vigil::protocol;
using nlohmann::json;

// Plain string literals throughout: moc misreads a raw string that holds a lone quote, and then
// finds no test class in the file.

namespace {

// The parse's result, or its failure message prefixed by "!".
QByteArray outcome(const std::string &text)
{
    json value;
    const std::string failure = parseStrictJson(text, value);
    return QByteArray::fromStdString(failure.empty() ? value.dump() : "!" + failure);
}

const QByteArray invalid = "!is not valid UTF-8 JSON";

} // namespace

class TestStrictJson : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // Each accepted text builds what nlohmann's parser builds, down to the number types.
    void buildsWhatNlohmannBuilds_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("scalars") << QByteArray("{\"n\":null,\"t\":true,\"f\":false}");
        QTest::newRow("top-level scalar") << QByteArray(" 42 ");
        QTest::newRow("top-level string") << QByteArray("\"x\"");
        QTest::newRow("negative integer") << QByteArray("[-9223372036854775808]");
        QTest::newRow("negative zero") << QByteArray("[-0]");
        QTest::newRow("largest unsigned") << QByteArray("[18446744073709551615]");
        QTest::newRow("unsigned overflow is a double") << QByteArray("[18446744073709551616]");
        QTest::newRow("signed overflow is a double") << QByteArray("[-9223372036854775809]");
        QTest::newRow("fraction and exponent") << QByteArray("[1.5, -2.25e-3, 1E+2, 0.0, 5e0]");
        QTest::newRow("too small for a double") << QByteArray("[1e-400, -1e-400]");
        QTest::newRow("escapes") << QByteArray("[\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"]");
        QTest::newRow("unicode escapes")
            << QByteArray("[\"\\u0000 \\u00e9 \\u20AC \\ud83d\\ude00 \\uFFFF\"]");
        QTest::newRow("raw UTF-8")
            << QByteArray("[\"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf "
                          "\xed\x9f\xbf \xee\x80\x80\"]");
        QTest::newRow("white space everywhere")
            << QByteArray(" \t\r\n{ \"a\" : [ 1 , { } , [ ] ] , \"b\" : \"\" } \n");
        QTest::newRow("same name in different objects")
            << QByteArray("{\"a\":{\"a\":{\"a\":1}},\"b\":[{\"a\":1},{\"a\":2}]}");
        QTest::newRow("long string") << QByteArray("[\"" + QByteArray(100000, 'A') + "\"]");
    }

    void buildsWhatNlohmannBuilds()
    {
        QFETCH(QByteArray, text);
        json ours;
        QCOMPARE(parseStrictJson(text.toStdString(), ours), std::string());
        const json theirs = json::parse(text.toStdString());
        QCOMPARE(ours.dump(), theirs.dump());
        const auto sameTypes = [](const json &a, const json &b, const auto &self) -> bool {
            if (a.type() != b.type() || a.size() != b.size())
                return false;
            if (a.is_structured())
                for (auto x = a.begin(), y = b.begin(); x != a.end(); ++x, ++y)
                    if ((a.is_object() && x.key() != y.key()) || !self(*x, *y, self))
                        return false;
            return true;
        };
        QVERIFY(sameTypes(ours, theirs, sameTypes));
    }

    void numberTypes()
    {
        json value;
        QCOMPARE(parseStrictJson("[-1, 1, 1.0, 18446744073709551616, 1e-400]", value),
                 std::string());
        QVERIFY(value[0].is_number_integer() && !value[0].is_number_unsigned());
        QVERIFY(value[1].is_number_unsigned());
        QVERIFY(value[2].is_number_float());
        QCOMPARE(value[3].get<double>(), 18446744073709551616.0);
        QCOMPARE(value[4].get<double>(), 0.0);
    }

    // Each refused text is refused by nlohmann's parser too, with the one message.
    void refusesWhatIsNotJson_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("empty") << QByteArray("");
        QTest::newRow("only white space") << QByteArray(" \n");
        QTest::newRow("byte order mark") << QByteArray("\xEF\xBB\xBF{}");
        QTest::newRow("trailing value") << QByteArray("{} x");
        QTest::newRow("two values") << QByteArray("1 2");
        QTest::newRow("unclosed object") << QByteArray("{\"a\":1");
        QTest::newRow("unclosed array") << QByteArray("[1,");
        QTest::newRow("trailing comma") << QByteArray("[1,]");
        QTest::newRow("trailing comma in object") << QByteArray("{\"a\":1,}");
        QTest::newRow("missing colon") << QByteArray("{\"a\" 1}");
        QTest::newRow("unquoted name") << QByteArray("{a:1}");
        QTest::newRow("single quotes") << QByteArray("['a']");
        QTest::newRow("truncated literal") << QByteArray("[tru");
        QTest::newRow("capitalised literal") << QByteArray("[True]");
        QTest::newRow("leading zero") << QByteArray("[01]");
        QTest::newRow("plus sign") << QByteArray("[+1]");
        QTest::newRow("bare minus") << QByteArray("[-]");
        QTest::newRow("no fraction digits") << QByteArray("[1.]");
        QTest::newRow("no integer digits") << QByteArray("[.5]");
        QTest::newRow("no exponent digits") << QByteArray("[1e+]");
        QTest::newRow("NaN") << QByteArray("[NaN]");
        QTest::newRow("too large for a double") << QByteArray("[1e400]");
        QTest::newRow("too large, negative") << QByteArray("[-1.8e308]");
        QTest::newRow("comment") << QByteArray("[1 /* x */]");
        QTest::newRow("unterminated string") << QByteArray("[\"abc");
        QTest::newRow("raw control character") << QByteArray("[\"a\tb\"]");
        QTest::newRow("raw NUL") << QByteArray("[\"a\0b\"]", 7);
        QTest::newRow("unknown escape") << QByteArray("[\"\\x41\"]");
        QTest::newRow("short unicode escape") << QByteArray("[\"\\u12\"]");
        QTest::newRow("bad hex digit") << QByteArray("[\"\\u12G4\"]");
        QTest::newRow("lone high surrogate") << QByteArray("[\"\\ud83d\"]");
        QTest::newRow("high surrogate then letter") << QByteArray("[\"\\ud83dx\"]");
        QTest::newRow("two high surrogates") << QByteArray("[\"\\ud83d\\ud83d\"]");
        QTest::newRow("lone low surrogate") << QByteArray("[\"\\ude00\"]");
        QTest::newRow("invalid byte") << QByteArray("[\"\xff\"]");
        QTest::newRow("continuation byte alone") << QByteArray("[\"\x80\"]");
        QTest::newRow("overlong two bytes") << QByteArray("[\"\xc0\xaf\"]");
        QTest::newRow("overlong three bytes") << QByteArray("[\"\xe0\x80\xaf\"]");
        QTest::newRow("overlong four bytes") << QByteArray("[\"\xf0\x80\x80\xaf\"]");
        QTest::newRow("encoded surrogate") << QByteArray("[\"\xed\xa0\x80\"]");
        QTest::newRow("above U+10FFFF") << QByteArray("[\"\xf4\x90\x80\x80\"]");
        QTest::newRow("five-byte lead") << QByteArray("[\"\xf8\x88\x80\x80\x80\"]");
        QTest::newRow("truncated sequence") << QByteArray("[\"\xe2\x82\"]");
        QTest::newRow("sequence cut by the end") << QByteArray("[\"\xe2\x82");
        QTest::newRow("UTF-8 outside a string") << QByteArray("[\xc3\xa9]");
    }

    void refusesWhatIsNotJson()
    {
        QFETCH(QByteArray, text);
        const std::string input(text.constData(), text.size());
        QCOMPARE(outcome(input), invalid);
        if (!input.starts_with("\xEF\xBB\xBF")) // nlohmann skips one
            QVERIFY(json::parse(input, nullptr, false).is_discarded());
    }

    // nlohmann's lexer takes a NUL byte between tokens for the end of the text, so it (and this
    // parser's predecessor, which used that lexer) accepted whatever followed one.
    void refusesANulAfterTheValue()
    {
        const std::string text("{\"a\":1}\0{\"a\":2}", 15);
        QCOMPARE(outcome(text), invalid);
        QCOMPARE(outcome(std::string("1\0", 2)), invalid);
        QVERIFY(json::parse(text.begin(), text.end()) == json::parse("{\"a\":1}"));
    }

    void refusesARepeatedName()
    {
        QCOMPARE(outcome("{\"a\":1,\"a\":1}"),
                 QByteArray("!has the member name \"a\" more than once"));
        QCOMPARE(outcome("[{\"b\":1},{\"c\":[1],\"c\":2}]"),
                 QByteArray("!has the member name \"c\" more than once"));
        // The name is the fault even when the text is broken after it.
        QCOMPARE(outcome("{\"a\":1,\"a\""),
                 QByteArray("!has the member name \"a\" more than once"));
        // An attacker-chosen name is not copied into the message whole.
        QCOMPARE(outcome("{\"" + std::string(40, 'x') + "\":1,\"" + std::string(40, 'x') + "\":2}"),
                 QByteArray("!has the member name (40 bytes) more than once"));
        QCOMPARE(outcome("{\"\\n\":1,\"\\n\":2}"),
                 QByteArray("!has the member name (unprintable) more than once"));
        // Names are compared after unescaping.
        QCOMPARE(outcome("{\"a\":1,\"\\u0061\":2}"),
                 QByteArray("!has the member name \"a\" more than once"));
    }

    void limitsNesting()
    {
        const std::string deepest = std::string(maxJsonDepth, '[') + std::string(maxJsonDepth, ']');
        json value;
        QCOMPARE(parseStrictJson(deepest, value), std::string());
        QCOMPARE(outcome("[" + deepest + "]"), QByteArray("!nests deeper than 32 levels"));
        QCOMPARE(outcome(std::string(maxJsonDepth, '[') + "{}" + std::string(maxJsonDepth, ']')),
                 QByteArray("!nests deeper than 32 levels"));
        // Far deeper than any stack would take, if the limit did not stop it first.
        QCOMPARE(outcome(std::string(1000000, '[')), QByteArray("!nests deeper than 32 levels"));
    }

    // The same faults told apart, for a caller that words its own message.
    void faultsNameKindPointerAndOffset()
    {
        using Kind = JsonFault::Kind;
        json value;
        QVERIFY(!parseStrictJson("{\"a\":[1,{\"b\":2}]}", value, maxJsonDepth));
        QCOMPARE(value.dump(), std::string("{\"a\":[1,{\"b\":2}]}"));

        auto fault = parseStrictJson("{\"a\":[1,{\"b\":2,\"b\":3}]}", value, maxJsonDepth);
        QVERIFY(fault && fault->kind == Kind::DuplicateName);
        QCOMPARE(fault->pointer, std::string("/a/1/b"));

        // Names are escaped as RFC 6901 says.
        fault = parseStrictJson("{\"x/y~\":{\"c\":1,\"c\":2}}", value, maxJsonDepth);
        QVERIFY(fault && fault->kind == Kind::DuplicateName);
        QCOMPARE(fault->pointer, std::string("/x~1y~0/c"));

        // The limit is the caller's: the array that opens one level too many is named.
        fault = parseStrictJson("{\"a\":[[[]]]}", value, 3);
        QVERIFY(fault && fault->kind == Kind::TooDeep);
        QCOMPARE(fault->pointer, std::string("/a/0/0"));
        QVERIFY(!parseStrictJson("{\"a\":[[]]}", value, 3));

        fault = parseStrictJson("{\"a\":\n [1, tru]}", value, maxJsonDepth);
        QVERIFY(fault && fault->kind == Kind::NotJson);
        QCOMPARE(fault->pointer, std::string("/a/1"));
        QCOMPARE(fault->offset, std::size_t(11));
        fault = parseStrictJson("[1e400]", value, maxJsonDepth);
        QVERIFY(fault && fault->kind == Kind::NotJson);
        QCOMPARE(fault->offset, std::size_t(1)); // the number, not what follows it
    }
};

QTEST_APPLESS_MAIN(TestStrictJson)
#include "tst_strictjson.moc"
