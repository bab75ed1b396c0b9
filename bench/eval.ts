// Benchmark (issue: the Nix language): `tix eval` against Nix 2.8's `nix-instantiate --eval
// --strict` on five workloads, each sized so that Nix needs about 0.5-0.7 s on the 2-core machine
// of bench/README.md. Both run as a user runs them (bin/tix, so Node's start-up is included),
// alternately in the same run, each with a throw-away chroot store. The derivation workload is read-only (--eval --strict of outPaths): no
// .drv is written by either side, so store writes are not timed. Goal: ratio <= 1.0 on each.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median, nixVersion, report, tempDir, timeShell, tixBin } from './lib.js';

const RUNS = Number(process.env.TIX_BENCH_RUNS ?? 5);
// Another tix checkout's executable may be timed instead (before/after comparisons).
const tixExe = process.env.TIX_BENCH_TIX ?? tixBin;

interface Workload {
  name: string;
  file: string;
  args?: string;
  text: string;
}

const WORKLOADS: Workload[] = [
  {
    name: 'fib (recursive fib 31)',
    file: 'fib.nix',
    text: 'let fib = n: if n < 2 then n else fib (n - 1) + fib (n - 2); in fib 31\n',
  },
  {
    name: "attrset churn (foldl' with //, 160k steps over 500 names)",
    file: 'churn.nix',
    text: `let
  step = acc: i: acc // { "k\${toString (i - (i / 500) * 500)}" = i; last = i; };
  r = builtins.foldl' step { } (builtins.genList (x: x) 160000);
in builtins.length (builtins.attrNames r) + r.last
`,
  },
  {
    name: 'sort of 300k integers (lambda comparator)',
    file: 'sort.nix',
    text: `let
  xs = builtins.genList (i: (i * 7919 + 13) - ((i * 7919 + 13) / 200003) * 200003) 300000;
  s = builtins.sort (a: b: a < b) xs;
in builtins.elemAt s 0 + builtins.elemAt s 299999
`,
  },
  {
    // 5,000 derivations take Nix 2.8 under 0.1 s, so the set is about seven times that size; each
    // derivation depends on another (inputDrvs, hashDerivationModulo of inputs).
    name: 'outPath of 36,000 derivations (--eval --strict, no .drv written)',
    file: 'drvs.nix',
    text: `let
  n = 36000;
  pkg = i: derivation {
    name = "pkg-\${toString i}";
    system = "x86_64-linux";
    builder = "/bin/sh";
    args = [ "-c" "echo \${toString i} > $out" ];
    version = "1.\${toString i}";
    dep = if i == 0 then null else pkgs.\${toString (i / 2)};
  };
  pkgs = builtins.listToAttrs (builtins.genList (i: { name = toString i; value = pkg i; }) n);
in map (i: pkgs.\${toString i}.outPath) (builtins.genList (i: i) n)
`,
  },
  {
    name: 'module-system fixpoint (80 hosts x 241 modules, 325 options)',
    file: 'modules.nix',
    args: '--arg nHosts 80',
    text: modulesNix(),
  },
];

/** A small NixOS-like module system: options with types and defaults, mkIf/mkMerge/mkOverride
 * pushed down to options, priorities, and `config` as the fixpoint of all modules' definitions. */
function modulesNix(): string {
  return `{ nServices ? 40, nModules ? 200, nHosts ? 4 }:
let
  inherit (builtins) attrNames catAttrs concatLists concatStringsSep deepSeq filter foldl' genList head
    isAttrs isBool isInt isList isString length mapAttrs toString zipAttrsWith;
  mod = a: b: a - (a / b) * b;

  mkOption = { type, default }: { _type = "option"; inherit type default; };
  mkIf = cond: content: { _type = "if"; inherit cond content; };
  mkOverride = priority: content: { _type = "override"; inherit priority content; };
  mkDefault = mkOverride 1000;
  mkForce = mkOverride 50;
  mkMerge = contents: { _type = "merge"; inherit contents; };

  types = {
    bool = { name = "bool"; check = isBool; merge = defs: foldl' (a: b: a || b) false defs; };
    int = { name = "int"; check = isInt; merge = defs: foldl' (a: b: if b > a then b else a) (head defs) defs; };
    str = { name = "str"; check = isString; merge = defs: concatStringsSep "," defs; };
    listOf = t: { name = "list of \${t.name}"; check = isList; merge = concatLists; };
    attrsOf = t: {
      name = "attribute set of \${t.name}";
      check = isAttrs;
      merge = defs: zipAttrsWith (n: vs: t.merge vs) defs;
    };
  };

  isType = t: x: isAttrs x && x ? _type && x._type == t;
  isOption = isType "option";

  # mkIf and mkMerge on a set become per-attribute definitions, so that a condition is only forced
  # when an option below it is merged (which is what lets config refer to itself).
  pushDown = d:
    if isType "if" d then mapAttrs (n: v: mkIf d.cond v) d.content
    else if isType "merge" d then zipAttrsWith (n: vs: mkMerge vs) (map pushDown d.contents)
    else d;
  discharge = d:
    if isType "if" d then (if d.cond then discharge d.content else [ ])
    else if isType "merge" d then concatLists (map discharge d.contents)
    else if isType "override" d then map (x: mkOverride d.priority x) (discharge d.content)
    else [ d ];
  prio = d: if isType "override" d then d.priority else 100;
  strip = d: if isType "override" d then d.content else d;

  mergeOption = path: opt: defs:
    let
      ds = concatLists (map discharge defs);
      best = foldl' (m: d: let p = prio d; in if p < m then p else m) 1500 ds;
      chosen = map strip (filter (d: prio d == best) ds);
      checked = map (v: if opt.type.check v then v else throw "option \${path} is not of type \${opt.type.name}") chosen;
    in if chosen == [ ] then opt.default else opt.type.merge checked;

  mergeDecls = decls: zipAttrsWith (n: vs: if isOption (head vs) then head vs else mergeDecls vs) decls;

  mergeTree = path: decl: defs:
    if isOption decl then mergeOption path decl defs
    else
      let
        pushed = map pushDown defs;
        undeclared = filter (n: !(decl ? \${n})) (concatLists (map attrNames pushed));
      in if undeclared != [ ] then throw "option \${path}.\${head undeclared} does not exist"
      else mapAttrs (n: sub: mergeTree "\${path}.\${n}" sub (catAttrs n pushed)) decl;

  evalModules = modules:
    let
      results = map (m: m { inherit config; }) modules;
      options = mergeDecls (catAttrs "options" results);
      config = mergeTree "config" options (catAttrs "config" results);
    in config;

  svc = i: "svc\${toString i}";
  serviceModule = i: { config, ... }: let cfg = config.services.\${svc i}; in {
    options.services.\${svc i} = {
      enable = mkOption { type = types.bool; default = false; };
      port = mkOption { type = types.int; default = 1000 + i; };
      user = mkOption { type = types.str; default = svc i; };
      extraArgs = mkOption { type = types.listOf types.str; default = [ ]; };
      settings = mkOption { type = types.attrsOf types.int; default = { }; };
      after = mkOption { type = types.listOf types.str; default = [ ]; };
      description = mkOption { type = types.str; default = "service \${toString i}"; };
      priority = mkOption { type = types.int; default = 0; };
    };
    config = mkIf cfg.enable {
      services = if i > 0 then { \${svc (i - 1)}.enable = true; } else { };
      environment.packages = [ "pkg-\${svc i}" ];
      environment.variables.\${"PORT_" + svc i} = cfg.port;
      users.uids.\${cfg.user} = 1000 + i;
      system.units = [ "\${cfg.description}:\${toString cfg.port}:\${concatStringsSep " " cfg.extraArgs}" ];
    };
  };
  baseModule = { config, ... }: {
    options.environment = {
      packages = mkOption { type = types.listOf types.str; default = [ ]; };
      variables = mkOption { type = types.attrsOf types.int; default = { }; };
    };
    options.users.uids = mkOption { type = types.attrsOf types.int; default = { }; };
    options.system = {
      units = mkOption { type = types.listOf types.str; default = [ ]; };
      summary = mkOption { type = types.str; default = ""; };
    };
    config.system.summary = "\${toString (length config.environment.packages)} packages";
  };
  settingModule = host: j: { config, ... }: let s = svc (mod (j * 7 + host) nServices); in {
    config = mkMerge [
      { services.\${s} = {
          settings.\${"k" + toString j} = j;
          extraArgs = [ "--opt\${toString j}" ];
          priority = j;
        };
      }
      (mkIf (mod j 5 == 0) { services.\${s}.enable = mkDefault true; })
      (mkIf config.services.\${s}.enable { services.\${s}.after = [ "net-\${toString j}" ]; })
      (mkIf (mod j 11 == 0) { services.\${s}.port = mkForce (2000 + j); })
    ];
  };
  host = h: evalModules ([ baseModule ] ++ genList serviceModule nServices ++ genList (settingModule h) nModules);
  hosts = genList host nHosts;
in deepSeq hosts (map (c: [ (length c.environment.packages) c.system.summary ]) hosts)
`;
}

const dir = tempDir('eval');
try {
  const etc = join(dir, 'etc');
  mkdirSync(etc);
  writeFileSync(
    join(etc, 'nix.conf'),
    'sandbox = false\nbuild-users-group =\nsubstituters =\nexperimental-features = nix-command\n',
  );
  const nixEnv = { ...process.env, NIX_CONF_DIR: etc, NIX_REMOTE: `local?root=${join(dir, 'nixroot')}` };
  const tixEnv = { ...process.env, TIX_STORE: `local?root=${join(dir, 'tixroot')}`, TIX_CONF_DIR: etc };
  console.log(`# ${nixVersion()}, ${new Date().toISOString().slice(0, 10)}, median of ${RUNS} runs`);
  for (const w of WORKLOADS) {
    const file = join(dir, w.file);
    writeFileSync(file, w.text);
    const args = `--strict ${file} ${w.args ?? ''}`;
    // Both must print the same value; the outputs are compared once, outside the timed runs.
    const nixOut = join(dir, `${w.file}.nix.out`);
    const tixOut = join(dir, `${w.file}.tix.out`);
    timeShell(`nix-instantiate --eval ${args} > ${nixOut}`, nixEnv);
    timeShell(`${tixExe} eval ${args} > ${tixOut}`, tixEnv);
    timeShell(`cmp ${nixOut} ${tixOut}`);
    const nix: number[] = [];
    const tix: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      nix.push(timeShell(`nix-instantiate --eval ${args} > /dev/null`, nixEnv));
      tix.push(timeShell(`${tixExe} eval ${args} > /dev/null`, tixEnv));
    }
    report(w.name, median(tix), median(nix), '<= 1.0x');
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
