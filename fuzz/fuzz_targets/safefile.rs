#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| nsutils_fuzz::safefile(data));
