export type { ApplyOptions, Student, StudentConfig, StudentKind, StudentOutput } from './types';
export { STUDENT_KINDS } from './types';
export { defaultStudentConfig, validateStudentConfig } from './config';
export { createStudent } from './create';
export { loadStudent, saveStudent, STUDENT_FORMAT, STUDENT_FORMAT_VERSION } from './io';
export type { StudentModelJson } from './io';
