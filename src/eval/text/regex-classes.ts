// Character classes and collating-element names of libstdc++'s regex_traits<char> in the "C"
// locale (which Nix 2.8 runs std::regex under): ASCII only, bytes >= 0x80 are in no class.

type ByteTest = (b: number) => boolean;

const isDigit: ByteTest = (b) => b >= 48 && b <= 57;
const isUpper: ByteTest = (b) => b >= 65 && b <= 90;
const isLower: ByteTest = (b) => b >= 97 && b <= 122;
const isAlpha: ByteTest = (b) => isUpper(b) || isLower(b);
const isAlnum: ByteTest = (b) => isAlpha(b) || isDigit(b);
const isSpace: ByteTest = (b) => b === 32 || (b >= 9 && b <= 13);
const isCntrl: ByteTest = (b) => b < 32 || b === 127;
const isPrint: ByteTest = (b) => b >= 32 && b < 127;
const isGraph: ByteTest = (b) => b > 32 && b < 127;
const isPunct: ByteTest = (b) => isGraph(b) && !isAlnum(b);

const CLASSES: Record<string, ByteTest> = {
  d: isDigit,
  w: (b) => isAlnum(b) || b === 95,
  s: isSpace,
  alnum: isAlnum,
  alpha: isAlpha,
  blank: (b) => b === 32 || b === 9,
  cntrl: isCntrl,
  digit: isDigit,
  graph: isGraph,
  lower: isLower,
  print: isPrint,
  punct: isPunct,
  space: isSpace,
  upper: isUpper,
  xdigit: (b) => isDigit(b) || (b >= 65 && b <= 70) || (b >= 97 && b <= 102),
};

/** The test for `[:name:]` (name matched case-insensitively), or undefined if unknown. */
export function bracketClass(name: string): ByteTest | undefined {
  const key = name.toLowerCase();
  return Object.hasOwn(CLASSES, key) ? CLASSES[key] : undefined;
}

// POSIX portable character set names, indexed by character code 0..127.
const NAMES = [
  'NUL SOH STX ETX EOT ENQ ACK alert backspace tab newline vertical-tab form-feed carriage-return SO SI',
  'DLE DC1 DC2 DC3 DC4 NAK SYN ETB CAN EM SUB ESC IS4 IS3 IS2 IS1',
  'space exclamation-mark quotation-mark number-sign dollar-sign percent-sign ampersand apostrophe',
  'left-parenthesis right-parenthesis asterisk plus-sign comma hyphen period slash',
  'zero one two three four five six seven eight nine colon semicolon less-than-sign equals-sign',
  'greater-than-sign question-mark commercial-at A B C D E F G H I J K L M N O P Q R S T U V W X Y Z',
  'left-square-bracket backslash right-square-bracket circumflex underscore grave-accent',
  'a b c d e f g h i j k l m n o p q r s t u v w x y z',
  'left-curly-bracket vertical-line right-curly-bracket tilde DEL',
]
  .join(' ')
  .split(' ');

/** The byte named by `[.name.]` / `[=name=]`, or undefined if the name is unknown. */
export function collatingElement(name: string): number | undefined {
  const i = NAMES.indexOf(name);
  return i < 0 ? undefined : i;
}
