-- pgTAP: the extension installs into a schema of the user's choice that is
-- not on search_path and already holds unrelated overloads of its function
-- names, and binds its operators to its own functions there.
-- (CREATE EXTENSION itself runs the script with search_path = target schema,
-- pg_temp last; the script qualifies everything with @extschema@ or
-- pg_catalog.)  Everything is rolled back at the end.
BEGIN;
SELECT plan(5);

DROP EXTENSION vectorx CASCADE;
CREATE SCHEMA vx_target;
CREATE FUNCTION vx_target.l2_distance(int, int) RETURNS float8 LANGUAGE sql AS 'SELECT 666::float8';
CREATE TEMP TABLE vector (x int);
SET LOCAL search_path = public;
SELECT lives_ok('CREATE EXTENSION vectorx SCHEMA vx_target', 'installs into a schema off search_path');
SELECT is((SELECT count(*)::int FROM pg_proc p
           WHERE EXISTS (SELECT 1 FROM unnest(p.proargtypes) t
                         WHERE t = (SELECT oid FROM pg_type WHERE typname = 'vector'
                                    AND typnamespace = pg_my_temp_schema()))),
          0, 'no function is bound to the unrelated pg_temp.vector');
SELECT is(vx_target.l2_distance('[0,0]'::vx_target.vector, '[3,4]'::vx_target.vector), 5::float8,
          'schema-qualified call reaches the extension''s l2_distance');
SELECT is((SELECT oprcode::regprocedure::text FROM pg_operator
           WHERE oprname = '<->' AND oprnamespace = 'vx_target'::regnamespace
             AND oprleft = 'vx_target.vector'::regtype),
          'vx_target.l2_distance(vx_target.vector,vx_target.vector)',
          '<-> calls the extension''s function');
SELECT is('[1,2]'::vx_target.vector OPERATOR(vx_target.<->) '[1,2]', 0::float8,
          'qualified operator works off search_path');

SELECT * FROM finish();
ROLLBACK;
